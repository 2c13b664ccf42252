#!/usr/bin/env bash
# apt-get, one at a time: CI runs the fault test beside the contract test and both install what
# they miss, so every script goes through here. flock serializes our own calls; DPkg::Lock::Timeout
# waits for any other apt (unattended-upgrades, an operator) instead of failing on the dpkg lock.
set -euo pipefail
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "apt-get.sh: need root or sudo for apt-get $*" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
exec $sudo flock /tmp/secirc-apt.lock apt-get -o DPkg::Lock::Timeout=600 "$@"
