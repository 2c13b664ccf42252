#!/usr/bin/env bash
# Planted bugs, to check that the tests catch them. Each scripts/mutants/NAME.patch is one small,
# realistic bug in a security check; its first lines say which check (`check:`) and which test
# suites must catch it (`suites:`, module or Module.Suite names). For each patch, in turn: apply
# it, build, run its suites, revert. A mutant is *caught* when its suites fail (an expectation,
# a crash or a timeout); one that survives means a check no test guards.
#
#   scripts/mutants.sh               every patch
#   scripts/mutants.sh NAME ...      those patches only
#
# Needs a tree whose Sources/ has no uncommitted change (the patches apply to what is committed).
# First the suites run once on the unchanged tree: they must pass, or nothing could be judged.
# Builds take /tmp/secirc-build.lock, like every script here. Logs: .build/mutants/NAME.log.
# Prints a line per mutant, then `mutants_caught C of N` last; exits 0 only when all are caught.
# The latest result is recorded in docs/SECURITY.md ("Tests that catch planted bugs").
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH=/opt/swift/usr/bin:$PATH

logs=.build/mutants
mkdir -p "$logs"
lock=/tmp/secirc-build.lock

if ! git diff --quiet -- Sources; then
    echo "mutants: Sources/ has uncommitted changes; commit or stash them first" >&2
    exit 2
fi

if [ $# -gt 0 ]; then
    patches=()
    for name in "$@"; do patches+=("scripts/mutants/$name.patch"); done
else
    patches=(scripts/mutants/*.patch)
fi
for patch in "${patches[@]}"; do
    [ -f "$patch" ] || { echo "mutants: no such patch: $patch" >&2; exit 2; }
done

# The suites a patch names, as a --filter pattern: `A B.C` → ^(A|B\.C)[./]
filter_of() {
    local suites
    suites=$(sed -n 's/^suites: //p' "$1" | head -1)
    [ -n "$suites" ] || { echo "mutants: $1 names no suites" >&2; exit 2; }
    echo "^($(echo "$suites" | sed 's/\./\\./g; s/ \+/|/g'))[./]"
}

build() {
    flock -o "$lock" swift build --build-tests >"$1" 2>&1
}

run_suites() { # filter log
    timeout 1200 swift test --skip-build --disable-xctest --no-parallel --filter "$1" >"$2" 2>&1
}

applied=""
restore() {
    if [ -n "$applied" ]; then git apply -R "$applied" && applied=""; fi
}
trap restore EXIT INT TERM

# Baseline: every suite any patch names passes on the unchanged tree.
all_suites=$(for patch in "${patches[@]}"; do sed -n 's/^suites: //p' "$patch"; done | tr ' ' '\n' | sort -u | tr '\n' ' ')
baseline=$(echo "$all_suites" | sed 's/ *$//; s/\./\\./g; s/ \+/|/g')
echo "mutants: baseline build and suites ($all_suites)"
build "$logs/baseline-build.log" || { echo "mutants: the unchanged tree does not build (see $logs/baseline-build.log)" >&2; exit 1; }
if ! run_suites "^($baseline)[./]" "$logs/baseline.log"; then
    echo "mutants: the suites fail on the unchanged tree (see $logs/baseline.log)" >&2
    exit 1
fi

caught=0
total=0
survivors=()
for patch in "${patches[@]}"; do
    name=$(basename "$patch" .patch)
    check=$(sed -n 's/^check: //p' "$patch" | head -1)
    filter=$(filter_of "$patch")
    log="$logs/$name.log"
    total=$((total + 1))
    git apply "$patch"
    applied="$patch"
    start=$(date +%s)
    if ! build "$log"; then
        restore
        echo "mutants: $name does not compile (see $log): mend the patch" >&2
        exit 2
    fi
    if run_suites "$filter" "$log"; then
        verdict=SURVIVED
        survivors+=("$name")
    else
        verdict=caught
        caught=$((caught + 1))
    fi
    restore
    failed=$(grep -m1 '✘' "$log" | cut -c1-110 || true)
    printf '%-32s %-8s %4ss  %s%s\n' "$name" "$verdict" "$(( $(date +%s) - start ))" "$check" "${failed:+ — $failed}"
done

# Leave the build as the tree is.
build "$logs/final-build.log" || true
if [ ${#survivors[@]} -gt 0 ]; then echo "survivors: ${survivors[*]}"; fi
echo "mutants_caught $caught of $total"
[ "$caught" -eq "$total" ]
