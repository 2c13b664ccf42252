#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs secIRC on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh
swift build --product secirc-relay
exec .build/debug/secirc-relay --config config/server.yaml --security config/security.yaml "$@"
