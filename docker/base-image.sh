#!/usr/bin/env bash
# Makes the local runtime base image secirc-base:bookworm without any image registry: a minimal
# Debian bookworm made by debootstrap from the Debian mirror this machine's apt uses, with the
# security updates applied and the packages docker/runtime-setup.sh names (the libraries the
# daemons load, curl for the healthchecks, openssl for the first ring's key), so that building
# the images needs no network. A runtime base, not a system to maintain: apt, perl, debconf, PAM,
# the user tools and time zones are purged after the upgrade (87 MB down to about 56 MB, so that
# each image with its static binary stays under 150 MB); a derived image adds nothing with apt.
# Cached: does nothing when the image exists (SECIRC_BASE_REBUILD=1 makes it again). Root only.
# Usage: docker/base-image.sh [IMAGE]      (default secirc-base:bookworm)
set -euo pipefail
image=${1:-secirc-base:bookworm}
suite=bookworm
packages=$(sh "$(dirname "$0")/runtime-setup.sh" --list | tr ' ' ,)

if [ "${SECIRC_BASE_REBUILD:-}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
    echo "base-image: $image exists" >&2
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "base-image: debootstrap needs root" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
fi

# The mirror apt is configured with: the first URI of /etc/apt/sources.list* ending in /debian
# (deb822 "URIs:" or one-line "deb URI ..." form); its -security sibling for the updates.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}//p' \
    | tr ' ' '\n' | grep -m1 -E '^https?://.*/debian/?$' || true)
mirror=${mirror%/}
[ -n "$mirror" ] || { echo "base-image: no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
echo "base-image: debootstrap $suite from $mirror" >&2

root=$(mktemp -d /tmp/secirc-base.XXXXXX)
trap 'rm -rf --one-file-system "$root" "$root.log"' EXIT
chmod 755 "$root"   # apt's _apt user downloads into it
debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -30 "$root.log" >&2; exit 1; }

cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $mirror-security $suite-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
{ chroot "$root" apt-get update -q && chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -y -q upgrade \
    && chroot "$root" apt-get clean; } >"$root.log" 2>&1 || { tail -30 "$root.log" >&2; exit 1; }
# Purged without their maintainer scripts (which need perl and debconf, purged with them).
unneeded="apt libapt-pkg6.0 gpgv libgcrypt20 libgpg-error0 debian-archive-keyring debconf perl-base tzdata
    e2fsprogs libext2fs2 libss2 logsave login passwd adduser libpam-modules libpam-modules-bin libpam-runtime
    libpam0g libsemanage2 libsemanage-common libsepol2 libaudit1 libaudit-common libcap-ng0 libdebconfclient0
    libxxhash0 liblz4-1 sysvinit-utils init-system-helpers mawk ncurses-bin ncurses-base"
for p in $unneeded; do rm -f "$root"/var/lib/dpkg/info/"$p"{,:amd64}.{prerm,postrm}; done
# shellcheck disable=SC2086
chroot "$root" dpkg --purge --force-all $unneeded >"$root.log" 2>&1 || { tail -30 "$root.log" >&2; exit 1; }
# What a container never reads: apt's lists and caches, documentation, translations, iconv's
# modules (Foundation converts text with ICU).
rm -rf "$root"/var/lib/apt "$root"/var/cache/apt "$root"/var/cache/debconf "$root"/usr/lib/x86_64-linux-gnu/gconv \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/log/* "$root"/tmp/* "$root"/etc/resolv.conf "$root"/etc/machine-id
: >"$root/etc/resolv.conf"

tar --numeric-owner -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --message "debootstrap $suite minbase + $packages, $(date -u +%Y-%m-%d)" - "$image" >/dev/null
echo "base-image: made $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))" >&2
