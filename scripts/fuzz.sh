#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, docs/FUZZING.md) with the fuzzer and AddressSanitizer in
# their own build path (.build-fuzz: the normal .build is untouched), then fuzzes each target for
# SECONDS (default 10), starting from its committed seed corpus (Fuzz/corpus/<target>/).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     every target when none is named
#
# New inputs go to .build-fuzz/corpus/<target>/ (kept between runs), crashes to
# .build-fuzz/crashes/<target>-crash-<sha1>; replay one with
#   SECIRC_FUZZ_TARGET=<target> .build-fuzz/release/secirc-fuzz <file>
# Prints executions and executions/s per target; exits 1 if any target crashed.
# SECIRC_BUILD_LOCK=<file>: hold that lock (flock) while building, as engineers on a shared machine do.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
seconds="${1:-10}"
shift || true
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(ls Fuzz/corpus); fi

start=$(date +%s)
lock=()
[ -n "${SECIRC_BUILD_LOCK:-}" ] && lock=(flock -o "$SECIRC_BUILD_LOCK")
set +e
"${lock[@]}" swift build -c release --build-path .build-fuzz --product secirc-fuzz \
    --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address -Xswiftc -DFUZZING 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] '
built=${PIPESTATUS[0]}
set -e
[ "$built" -eq 0 ] || { echo "fuzz.sh: the build failed" >&2; exit 1; }
binary=.build-fuzz/release/secirc-fuzz
echo "fuzz.sh: built in $(( $(date +%s) - start )) s"

mkdir -p .build-fuzz/crashes
failed=()
summary=()
for target in "${targets[@]}"; do
    [ -d "Fuzz/corpus/$target" ] || { echo "fuzz.sh: no corpus for $target" >&2; exit 2; }
    mkdir -p ".build-fuzz/corpus/$target"
    log=".build-fuzz/$target.log"
    # Swift's own backtracer would take seconds per crash; libFuzzer reports it.
    if SECIRC_FUZZ_TARGET="$target" SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$binary" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/crashes/$target-" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" >"$log" 2>&1; then
        status=ok
    else
        status=CRASH
        failed+=("$target")
        grep -E "ERROR|Fatal error|Test unit written|SUMMARY" "$log" | head -5 >&2 || true
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2 || true)
    summary+=("$(printf '%-18s %-6s %10s runs %8s/s  cov %s' "$target" "$status" "${runs:-?}" "${rate:-?}" "${cov:-?}")")
done
printf '%s\n' "${summary[@]}"
echo "fuzz.sh: ${#targets[@]} targets, ${seconds} s each, $(( $(date +%s) - start )) s in all"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz.sh: crashed: ${failed[*]} (inputs in .build-fuzz/crashes/)" >&2
    exit 1
fi
