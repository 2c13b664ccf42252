#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh
swift build --build-tests
# One test at a time: the integration suites start real relay processes, and on a 2-core machine
# running them beside the CPU-heavy unit suites made their readiness waits time out (about a
# minute either way; measured 56 s serial).
swift test --skip-build --disable-xctest --no-parallel "$@"
