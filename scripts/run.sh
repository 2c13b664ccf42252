#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs secIRC on this machine as
# `secirc devnet`: relays a (first ring), b and c, and client daemons alice and bob, already each
# other's contacts. Extra arguments go to devnet, e.g. --dir /tmp/devnet (keep the data) or
# --smoke (check that alice and bob can message each other, then stop). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh
for product in secirc-relay secirc-client secirc; do
    swift build --product "$product"
done
exec .build/debug/secirc devnet "$@"
