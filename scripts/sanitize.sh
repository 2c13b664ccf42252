#!/usr/bin/env bash
# The test suites under a sanitizer, in a build directory of their own (.build-<kind>), so the
# normal build is untouched:
#   ./scripts/sanitize.sh thread          # ThreadSanitizer, unit suites (every target but IntegrationTests)
#   ./scripts/sanitize.sh address         # AddressSanitizer, unit suites
#   ./scripts/sanitize.sh thread --all    # every suite, the process tests too
# Extra arguments after the kind (other than --all) go to `swift test` (e.g. --filter X).
# Builds under /tmp/secirc-build.lock itself: never wrap it in flock. Exits non-zero on a report.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
kind=${1:-thread}
shift || true
case "$kind" in thread|address) ;; *) echo "sanitize: kind is thread or address, not $kind" >&2; exit 2 ;; esac
skip=(--skip IntegrationTests)
rest=()
for arg in "$@"; do
    if [ "$arg" = --all ]; then skip=(); else rest+=("$arg"); fi
done
path=".build-$kind"
start=$(date +%s)
flock -o /tmp/secirc-build.lock swift build --build-tests --sanitize="$kind" --build-path "$path"
echo "sanitize: $kind build took $(( $(date +%s) - start )) s"
# halt_on_error: the first report fails the run (a report is a finding, not a warning).
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="halt_on_error=1 detect_leaks=0 ${ASAN_OPTIONS:-}"
tests=$(date +%s)
# Tests in parallel, as scripts/test.sh runs them (the races TSan looks for need threads anyway);
# SANITIZE_SERIAL=1 runs them one at a time.
serial=()
[ -n "${SANITIZE_SERIAL:-}" ] && serial=(--no-parallel)
swift test --skip-build --sanitize="$kind" --build-path "$path" --disable-xctest ${serial[@]+"${serial[@]}"} ${skip[@]+"${skip[@]}"} ${rest[@]+"${rest[@]}"}
echo "sanitize: $kind tests took $(( $(date +%s) - tests )) s, $(( $(date +%s) - start )) s in all: clean"
