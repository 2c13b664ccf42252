#!/usr/bin/env bash
# Checks the first ring's voting protocol model (Models/ring-voting.pml) with spin, in every
# configuration below, and says for each whether the result is the expected one: the property
# holds (pan finds no error), or pan finds the expected counterexample (the named assertion).
# One line per configuration; the last line is `spin_configurations_as_expected K of M`; the exit
# status is 0 only when K = M. Needs spin (Debian package `spin`) and gcc.
#
#   scripts/spin-check.sh          run all configurations
#   scripts/spin-check.sh -v       also print the steps of each counterexample (spin -t)
#
# Models/README.md explains the model and each configuration.
set -uo pipefail
cd "$(dirname "$0")/.."
model="$PWD/Models/ring-voting.pml"

verbose=0
[ "${1:-}" = "-v" ] && verbose=1

for tool in spin gcc; do
    command -v "$tool" >/dev/null || {
        echo "spin-check: $tool is not installed (scripts/install-deps.sh installs it; Debian: apt-get install $tool)" >&2
        echo "spin_configurations_as_expected 0 of 0"
        exit 2
    }
done

# name | spin defines | expected: "holds" or the flag of the expected failed assertion
configs=(
    "n3 t2 byz0 crash<=3 loss, async: safety     |-DN=3 -DT=2 -DBYZ=0 -DCRASH=3 -DLOSS=1|holds"
    "n3 t2 byz0 crash<=3, synchrony: liveness    |-DN=3 -DT=2 -DBYZ=0 -DCRASH=3 -DSYNC=1|holds"
    "n3 t2 byz0 crash<=3, sync, no forwarding    |-DN=3 -DT=2 -DBYZ=0 -DCRASH=3 -DSYNC=1 -DFORWARD=0|not_live"
    "n3 t2 byz1, async: safety                   |-DN=3 -DT=2 -DBYZ=1|two_quorums"
    "n3 t2 byz1, async: published fork           |-DN=3 -DT=2 -DBYZ=1 -DQUORUM_CHECK=0|forked"
    "n4 t2 byz0 crash<=2 loss, async: safety     |-DN=4 -DT=2 -DBYZ=0 -DCRASH=2 -DLOSS=1|two_quorums"
    "n4 t3 byz1 crash<=3 loss, async: safety     |-DN=4 -DT=3 -DBYZ=1 -DCRASH=3 -DLOSS=1|holds"
    "n5 t3 byz0 crash<=2 loss, async: safety     |-DN=5 -DT=3 -DBYZ=0 -DCRASH=2 -DLOSS=1 -DPUBLISH=0|holds"
    "n5 t3 byz0 crash<=2, synchrony: liveness    |-DN=5 -DT=3 -DBYZ=0 -DCRASH=2 -DSYNC=1|holds"
    "n5 t3 byz1, async: safety                   |-DN=5 -DT=3 -DBYZ=1|two_quorums"
    "n5 t4 byz2 crash<=3 loss, async: safety     |-DN=5 -DT=4 -DBYZ=2 -DCRASH=3 -DLOSS=1 -DPUBLISH=0|holds"
)

work=$(mktemp -d "${TMPDIR:-/tmp}/spin-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }

total=0
good=0
for entry in "${configs[@]}"; do
    IFS='|' read -r name defines expected <<<"$entry"
    total=$((total + 1))
    dir="$work/$total"
    mkdir -p "$dir"
    start=$(now)
    result=""
    # shellcheck disable=SC2086 # the defines are separate words on purpose
    if ! (cd "$dir" && spin $defines -a "$model" >spin.out 2>&1); then
        result="spin-failed"
    elif ! (cd "$dir" && gcc -O2 -DSAFETY -w -o pan pan.c >gcc.out 2>&1); then
        result="gcc-failed"
    else
        # -m: search depth bound (well above the deepest path); -c1: stop at the first error.
        (cd "$dir" && timeout 600 ./pan -m100000 -c1 >pan.out 2>&1)
        status=$?
        out="$dir/pan.out"
        if [ $status -eq 124 ]; then
            result="timeout"
        elif grep -q "max search depth too small\|out of memory" "$out"; then
            result="incomplete"                     # the search did not cover every state
        elif grep -q "errors: 0" "$out"; then
            result="holds"
        elif flag=$(grep -o -m1 "assertion violated *!(\([a-z_]*\))" "$out"); then
            result=$(sed 's/.*!(\([a-z_]*\))/\1/' <<<"$flag")
        elif grep -q "invalid end state" "$out"; then
            result="invalid-end-state"
        else
            result="error"
        fi
        states=$(awk '/states, stored/ {print $1; exit}' "$out")
        search=$(awk '/pan: elapsed time/ {print $4; exit}' "$out")
    fi
    wall=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    if [ "$result" = "$expected" ]; then good=$((good + 1)); mark="as expected"; else mark="UNEXPECTED"; fi
    if [ "$expected" = holds ]; then want="holds"; else want="counterexample ($expected)"; fi
    if [ "$result" = holds ]; then got="holds"; elif [ "$result" = "$expected" ] || [[ "$result" =~ ^(two_quorums|forked|not_live|disagreement|honest_accused)$ ]]; then got="counterexample ($result)"; else got="$result"; fi
    printf '%s  expected %-28s result %-28s states %10s  search %6ss  total %5ss  %s\n' \
        "$name" "$want" "$got" "${states:--}" "${search:--}" "$wall" "$mark"
    if [ "$result" != holds ] && [ -f "$dir/pan.c" ] && ls "$dir"/*.trail >/dev/null 2>&1 && { [ $verbose = 1 ] || [ "$mark" = UNEXPECTED ]; }; then
        # shellcheck disable=SC2086
        (cd "$dir" && spin -t $defines -k ring-voting.pml.trail "$model" 2>&1) \
            | grep -E "MSC:|assertion violated" | sed 's/^ */    /'
    fi
    if [ "$mark" = UNEXPECTED ] && [ -f "$dir/pan.out" ]; then sed 's/^/    pan: /' "$dir/pan.out" | head -20; fi
done

echo "spin_configurations_as_expected $good of $total"
[ "$good" -eq "$total" ]
