#!/usr/bin/env bash
# Builds the images secirc-relay, secirc-client and secirc-cli with no image registry (root, Debian/Ubuntu):
#  1. the base image secirc-base:bookworm by debootstrap (docker/base-image.sh; kept once made);
#  2. secirc-relay, secirc-client and secirc on this machine, release, with the static Swift
#     standard library, so the images need no Swift runtime, only Debian's packages;
#  3. the images from their stripped copies in .build/docker/bin (docker/Dockerfile, -host targets).
# A Docker engine must be running (scripts/docker-test.sh starts one if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
base=secirc-base:bookworm

docker/base-image.sh "$base"

./scripts/install-deps.sh
# One release build at a time on a shared machine, the lock held once for the three products
# (harmless where nobody else builds).
# shellcheck disable=SC2016
flock -o /tmp/secirc-build.lock sh -c 'for product in secirc-relay secirc-client secirc; do
    swift build -c release --static-swift-stdlib --product "$product" || exit 1
done'
bin=$(swift build -c release --show-bin-path)
rm -rf .build/docker/bin
install -D -s -t .build/docker/bin "$bin/secirc-relay" "$bin/secirc-client" "$bin/secirc"

for target in relay client cli; do
    # Its output only on failure: else the legacy builder's notice (BuildKit would need the buildx
    # plugin, which Debian's docker.io lacks; the legacy builder does all this Dockerfile needs).
    out=$(docker build -q -f docker/Dockerfile --target "$target-host" --build-arg BASE="$base" -t "secirc-$target" . 2>&1) \
        || { echo "$out" >&2; exit 1; }
    echo "build: secirc-$target $(docker image inspect -f '{{.Size}}' "secirc-$target" | awk '{printf "%.0f MB", $1/1e6}')" >&2
done
