#!/bin/sh
# Prepares a Debian bookworm root for the secIRC daemons; run by docker/Dockerfile.* while
# building an image (and asked for its package list by docker/base-image.sh, with --list).
#  - the Debian packages whose libraries the daemons load (`ldd`: libsodium, libssl, jansson,
#    libmicrohttpd, libcurl for FoundationNetworking, SQLite for the client's store), curl for
#    the healthchecks and openssl for the first ring's key; installed only when missing, so a
#    base made by docker/base-image.sh (which has them) needs no network;
#  - the user secirc (uid/gid 10001, no login, no password) the daemons run as;
#  - /var/lib/secirc (the data volume, 0700) and /etc/secirc/ring (where the first ring's
#    security.yaml is shared), both owned by secirc: a new named volume mounted there takes
#    that owner and mode.
set -eu
packages="libsodium23 libssl3 libjansson4 libmicrohttpd12 libcurl4 libsqlite3-0 curl openssl"
if [ "${1:-}" = --list ]; then echo "$packages"; exit 0; fi

# shellcheck disable=SC2086
if ! dpkg-query -W $packages >/dev/null 2>&1; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages
    rm -rf /var/lib/apt/lists/*
fi
# Written directly: the base from docker/base-image.sh has no useradd.
grep -q '^secirc:' /etc/group || echo 'secirc:x:10001:' >>/etc/group
grep -q '^secirc:' /etc/passwd || echo 'secirc:x:10001:10001:secIRC:/var/lib/secirc:/usr/sbin/nologin' >>/etc/passwd
install -d -o secirc -g secirc -m 0700 /var/lib/secirc
install -d -o secirc -g secirc -m 0755 /etc/secirc/ring
