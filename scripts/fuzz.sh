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
# SwiftPM's --sanitize fuzzer links libFuzzer and instruments C; the Swift driver keeps only
# the last -sanitize=, so fuzzer and address go to it together (two --sanitize flags lose the
# coverage instrumentation of every Swift module).
"${lock[@]}" swift build -c release --build-path .build-fuzz --product secirc-fuzz \
    --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address -Xswiftc -DFUZZING 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] '
built=${PIPESTATUS[0]}
set -e
[ "$built" -eq 0 ] || { echo "fuzz.sh: the build failed" >&2; exit 1; }
binary=.build-fuzz/release/secirc-fuzz
echo "fuzz.sh: built in $(( $(date +%s) - start )) s"

mkdir -p .build-fuzz/crashes
# One libFuzzer process per target, FUZZ_JOBS (default: the number of cores) at a time.
fuzz_one() {
    local target="$1" log=".build-fuzz/$1.log"
    mkdir -p ".build-fuzz/corpus/$target"
    # Swift's own backtracer would take seconds per crash; libFuzzer reports it. ASan's leak
    # check is off: the fixtures live for the whole process on purpose.
    if SECIRC_FUZZ_TARGET="$target" SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$binary" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/crashes/$target-" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" >"$log" 2>&1; then
        echo ok >".build-fuzz/$target.status"
    else
        echo CRASH >".build-fuzz/$target.status"
    fi
}
jobs_max="${FUZZ_JOBS:-$(nproc)}"
for target in "${targets[@]}"; do
    [ -d "Fuzz/corpus/$target" ] || { echo "fuzz.sh: no corpus for $target" >&2; exit 2; }
    rm -f ".build-fuzz/$target.status"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
    fuzz_one "$target" &
done
wait

failed=()
for target in "${targets[@]}"; do
    log=".build-fuzz/$target.log"
    status=$(cat ".build-fuzz/$target.status" 2>/dev/null || echo CRASH)
    if [ "$status" != ok ]; then
        failed+=("$target")
        grep -E "ERROR|Fatal error|Test unit written|SUMMARY" "$log" | head -5 >&2 || true
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2 || true)
    printf '%-18s %-6s %10s runs %8s/s  cov %s\n' "$target" "$status" "${runs:-?}" "${rate:-?}" "${cov:-?}"
done
echo "fuzz.sh: ${#targets[@]} targets, ${seconds} s each, ${jobs_max} at a time, $(( $(date +%s) - start )) s in all"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz.sh: crashed: ${failed[*]} (inputs in .build-fuzz/crashes/)" >&2
    exit 1
fi
