#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test.
#   ./scripts/test.sh                 every suite: the unit targets, then IntegrationTests
#   ./scripts/test.sh --filter X      the tests X names (arguments go to `swift test`)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh
swift build --build-tests
if [ "$#" -gt 0 ]; then
    exec swift test --skip-build --disable-xctest "$@"
fi
# Two runs, each with its tests in parallel (Swift Testing's default). The unit targets are
# CPU-bound; IntegrationTests (real relay and client processes, readiness waits with deadlines)
# mostly wait on their processes' timers, so they run after the unit targets rather than beside
# them: beside them on a 2-core machine their waits timed out. One test at a time took 559 s for
# the whole suite (912 tests); the two parallel runs about 65 s and 115 s (2026-11-30, a quiet machine).
start=$(date +%s)
swift test --skip-build --disable-xctest --skip IntegrationTests
unit=$(( $(date +%s) - start ))
swift test --skip-build --disable-xctest --filter IntegrationTests
echo "test.sh: unit targets ${unit} s, IntegrationTests $(( $(date +%s) - start - unit )) s"
