#!/usr/bin/env bash
# Installs the system packages secIRC builds against (Debian/Ubuntu), only those missing.
# Runs apt-get update first whenever it installs anything (always under CI=true).
set -euo pipefail

packages=(pkg-config gcc curl libsodium-dev libmicrohttpd-dev libjansson-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev
          dnsmasq-base openssl wrk spin tshark)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ] || [ "${CI:-}" = "true" ]; then
    echo "install-deps: installing ${missing[*]:-(checking all)}" >&2
    "$(dirname "$0")/apt-get.sh" update -q
    "$(dirname "$0")/apt-get.sh" install -y -q --no-install-recommends "${packages[@]}"
fi

if ! command -v swift >/dev/null; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "install-deps: swift is at /opt/swift/usr/bin; add it to PATH" >&2
    else
        echo "install-deps: Swift 6 is required (https://www.swift.org/install/linux/)" >&2
    fi
    exit 1
fi
