#!/usr/bin/env bash
# Faults on a real network (issue 17): three relays and two clients, each in a network namespace
# of its own, joined by veth pairs to a router namespace. Every datagram to a relay passes a
# fault-injecting forwarder there (secirc-faults: 100 ms ± 50 ms uniform jitter each way, so
# datagrams overtake one another), and iptables drops 5% of the UDP datagrams the router takes
# in (`-m statistic --mode random`). Alice and bob message each other through that, then alice is
# cut off from everything (DROP rules on her link) while both send more; after 60 s the cut heals.
# Passes when every message was delivered exactly once: listed once on the receiving side, and
# `delivered` (its end-to-end receipt back) exactly once on the sending side
# (scripts/netns/drive.py). Figures: docs/FAULTS.md.
#
# Layout (tag = secirc-nf<pid>; nothing else is touched, and nothing leaves the namespaces):
#   <tag>-net     router: 10.77.<i>.1 towards node i, forwarders on 10.77.0.1:710<i>, the faults
#   <tag>-a b c   relays 1..3 on 10.77.<i>.2 (UDP 7001, HTTP 8001), advertising 10.77.0.1:710<i>
#   <tag>-alice   client 4, <tag>-bob client 5, each with its API on its own 127.0.0.1:6692
# Teardown on any exit: daemons stopped, namespaces deleted (their veths and iptables rules go
# with them); leftovers of runs that were killed are removed at start.
#
# Needs root (installs iproute2/iptables from Debian when missing) and the debug build; builds
# what it needs under the build lock (so never wrap it in flock; SECIRC_NETNS_NO_BUILD=1 skips).
# Environment: SECIRC_NETNS_TEST_SECONDS (everything, default 300), SECIRC_NETNS_MESSAGES (per
# direction and phase, default 20), SECIRC_NETNS_PARTITION_SECONDS (60), SECIRC_NETNS_CUT (alice:
# she is cut off; relays: b and c are cut off from each other), SECIRC_NETNS_LOSS (0.05),
# SECIRC_NETNS_DELAY_MS (100), SECIRC_NETNS_JITTER_MS (50), SECIRC_NETNS_DUPLICATE (probability that
# the forwarders send a datagram twice, 0), SECIRC_NETNS_DIR (kept; default a
# temporary directory, removed when the test passes).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
messages=${SECIRC_NETNS_MESSAGES:-20}
partition=${SECIRC_NETNS_PARTITION_SECONDS:-60}
cut=${SECIRC_NETNS_CUT:-alice}
loss=${SECIRC_NETNS_LOSS:-0.05}
delay=${SECIRC_NETNS_DELAY_MS:-100}
jitter=${SECIRC_NETNS_JITTER_MS:-50}
duplicate=${SECIRC_NETNS_DUPLICATE:-0}
tag=secirc-nf$$
say() { echo "netns-test: [$(($(date +%s) - started))s] $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

# --- tools and binaries -------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || { echo "netns-test: needs root (network namespaces, iptables)" >&2; exit 1; }
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v iptables >/dev/null || missing+=(iptables)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    ./scripts/apt-get.sh update -q >/dev/null
    ./scripts/apt-get.sh install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
dir=${SECIRC_NETNS_DIR:-$(mktemp -d /tmp/secirc-netns-XXXXXX)}
mkdir -p "$dir"
pids=()
names=()

# --- teardown, always ---------------------------------------------------------------------------
finish() {
    local status=$?
    trap - EXIT INT TERM
    if [ "$status" -ne 0 ]; then
        say "FAILED (exit $status): the end of each log (all in $dir)"
        for name in "${names[@]}"; do
            echo "--- $name.log" >&2
            tail -n 15 "$dir/$name.log" >&2 2>/dev/null || true
        done
    fi
    stop_all
    for ns in $(ip netns list | awk '{print $1}' | grep "^$tag-" || true); do ip netns del "$ns" 2>/dev/null || true; done
    if [ "$status" -eq 0 ] && [ -z "${SECIRC_NETNS_DIR:-}" ]; then rm -rf "$dir"; fi
    say "done, exit $status, wall time $(($(date +%s) - started)) s"
    exit "$status"
}
# stop_all: SIGTERM to every daemon started here, SIGKILL to what still runs 15 s later.
stop_all() {
    [ ${#pids[@]} -gt 0 ] || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 150); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    pids=()
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bin=$root/.build/debug
if [ "${SECIRC_NETNS_NO_BUILD:-}" != 1 ]; then
    ./scripts/install-deps.sh
    say "building (waits for /tmp/secirc-build.lock)"
    for product in secirc-relay secirc-client secirc-faults; do
        if ! flock -o /tmp/secirc-build.lock swift build --product "$product" >"$dir/build.log" 2>&1; then
            grep -E "error" "$dir/build.log" >&2 || tail -20 "$dir/build.log" >&2
            fail "swift build --product $product failed"
        fi
    done
fi
for b in secirc-relay secirc-client secirc-faults; do
    [ -x "$bin/$b" ] || fail "$bin/$b is missing (swift build)"
done
# The time limit runs from here: waiting for the build lock is not the test's time.
deadline=$(($(date +%s) + ${SECIRC_NETNS_TEST_SECONDS:-300}))

# --- leftovers of killed runs -------------------------------------------------------------------
for ns in $(ip netns list | awk '{print $1}' | grep -E '^secirc-nf[0-9]+-' || true); do
    pid=${ns#secirc-nf}; pid=${pid%%-*}
    if ! kill -0 "$pid" 2>/dev/null; then ip netns del "$ns" 2>/dev/null && say "removed leftover namespace $ns"; fi
done

# --- the network --------------------------------------------------------------------------------
# Node i: relays a b c = 1 2 3, clients alice bob = 4 5.
nodes=(a b c alice bob)
router=$tag-net
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
say "namespaces $tag-* (router $router), data and logs in $dir"
ip netns add "$router"
ip -n "$router" link set lo up
ip -n "$router" addr add 10.77.0.1/32 dev lo
in_ns "$router" sysctl -qw net.ipv4.ip_forward=1
i=0
for node in "${nodes[@]}"; do
    i=$((i + 1))
    ns=$tag-$node
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$router" link add "n-$node" type veth peer name eth0 netns "$ns"
    ip -n "$router" addr add "10.77.$i.1/24" dev "n-$node"
    ip -n "$router" link set "n-$node" up
    ip -n "$ns" addr add "10.77.$i.2/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add 10.77.0.0/16 via "10.77.$i.1"
done
# Loss: 5% of the UDP datagrams the router takes in, in both directions (towards a relay's
# forwarder, and a relay's answer to the forwarder's session socket).
in_ns "$router" iptables -A INPUT -p udp -m statistic --mode random --probability "$loss" -j DROP

# start NAME NAMESPACE COMMAND...: a daemon in a namespace, logging to $dir/NAME.log.
start() {
    local name=$1 ns=$2; shift 2
    ip netns exec "$ns" "$@" >"$dir/$name.log" 2>&1 &
    pids+=($!)
    names+=("$name")
}
left() { echo $((deadline - $(date +%s))); }
# until_ok DESCRIPTION COMMAND...: retries COMMAND every 0.2 s until it succeeds or the deadline.
until_ok() {
    local what=$1; shift
    until "$@" >/dev/null 2>&1; do
        [ "$(left)" -gt 0 ] || fail "timed out waiting for $what"
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || fail "a daemon exited while waiting for $what"; done
        sleep 0.2
    done
    say "$what"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
router_curl() { in_ns "$router" curl -sf --max-time 5 "$@"; }

i=0
for relay in a b c; do
    i=$((i + 1))
    start "faults-$relay" "$router" "$bin/secirc-faults" --listen "10.77.0.1:710$i" --target "10.77.$i.2:7001" \
        --delay-ms "$delay" --jitter-ms "$jitter" --duplicate "$duplicate" --seed "$tag-$relay" --report-seconds 0
done
until_ok "forwarders up" bash -c "grep -q '^faults listen' '$dir/faults-a.log' && grep -q '^faults listen' '$dir/faults-b.log' && grep -q '^faults listen' '$dir/faults-c.log'"

# relay_config NAME INDEX: server.yaml of relay NAME (node INDEX), as the devnet writes it.
relay_config() {
    mkdir -p "$dir/$1/data"
    cat >"$dir/$1/server.yaml" <<YAML
# netns-test: relay $1
relay: {name: $1, data_dir: "$dir/$1/data"}
udp: {listen: "10.77.$2.2:7001", advertise: "10.77.0.1:710$2"}
http: {listen: "10.77.$2.2:8001"}
directory: {period_seconds: 10}
YAML
}
relay_config a 1
# Every relay advertises its forwarder on the router's one address (10.77.0.1:710<i>): the first
# ring's per-address caps (security.yaml admission, 2 by default) would refuse the third.
printf 'first_ring: {members: []}\nadmission: {max_relays_per_address: 0, max_relays_per_prefix: 0, probation_hours: 0}\n' >"$dir/a/security.yaml"
start a "$tag-a" "$bin/secirc-relay" --config "$dir/a/server.yaml" --security "$dir/a/security.yaml"
until_ok "relay a answers" router_curl http://10.77.1.2:8001/v1/relay
ring_key=$(router_curl http://10.77.1.2:8001/v1/relay | json 'print(d["identity_key"])')
ring="first_ring:
  members:
    - {public_key: $ring_key, udp: \"10.77.0.1:7101\", http: \"http://10.77.1.2:8001\"}"
i=1
for relay in b c; do
    i=$((i + 1))
    relay_config "$relay" $i
    echo "$ring" >"$dir/$relay/security.yaml"
    start "$relay" "$tag-$relay" "$bin/secirc-relay" --config "$dir/$relay/server.yaml" --security "$dir/$relay/security.yaml"
done
directory_of_3() { [ "$(router_curl "$1/readyz" -o /dev/null -w '%{http_code}')" = 200 ] &&
    router_curl "$1/v1/relays" | json 'sys.exit(len(d["relays"]) != 3)'; }
for i in 1 2 3; do until_ok "relay ${nodes[$((i - 1))]} ready with 3 relays in its directory" directory_of_3 "http://10.77.$i.2:8001"; done

for client in alice bob; do
    mkdir -p "$dir/$client/data"
    cat >"$dir/$client/client.yaml" <<YAML
# netns-test: client $client (as the devnet writes it)
client: {data_dir: "$dir/$client/data", display_name: $client}
api: {listen: "127.0.0.1:6692"}
network:
  bootstrap_urls: ["http://10.77.1.2:8001", "http://10.77.2.2:8001", "http://10.77.3.2:8001"]
  path_length: 3
  cover_traffic: "off"
  poll_interval_ms: 100
  push: true
messages: {retry_initial_seconds: 1, retry_max_seconds: 10}
contacts: {auto_accept: true}   # as the devnet: bob's daemon makes alice a contact at once
YAML
    echo "$ring" >"$dir/$client/security.yaml"
    start "$client" "$tag-$client" "$bin/secirc-client" --config "$dir/$client/client.yaml" \
        --security "$dir/$client/security.yaml" --data-dir "$dir/$client/data" --api-listen 127.0.0.1:6692
done
until_ok "clients started" bash -c "grep -q '^client id' '$dir/alice.log' && grep -q '^client id' '$dir/bob.log' && [ -s '$dir/alice/data/api.token' ] && [ -s '$dir/bob/data/api.token' ]"

# --- messages through the faults, a partition, the heal -----------------------------------------
python3 scripts/netns/drive.py --dir "$dir" --tag "$tag" --messages "$messages" --partition-seconds "$partition" \
    --cut "$cut" --deadline "$deadline" || fail "the message check failed (above)"

# --- what the faults did ------------------------------------------------------------------------
for i in 1 2 3; do
    router_curl "http://10.77.$i.2:8001/metrics" | awk -v relay="${nodes[$((i - 1))]}" '
        /^secirc_datagrams_received_total / { received = $2 }
        /^secirc_handshakes_total / { handshakes = $2 }
        /^secirc_packets_forwarded_total / { forwarded = $2 }
        /^secirc_packets_dropped_total\{/ && $2 > 0 { sub(/secirc_packets_dropped_total/, ""); drops = drops sep $0; sep = ", " }
        END { printf "netns-test: relay %s: %d datagrams received, %d Sphinx packets forwarded, %d link handshakes; dropped: %s\n",
              relay, received, forwarded, handshakes, drops == "" ? "nothing" : drops }' >&2
done
# Stop the forwarders first, for their last counters; the rest is stopped by the teardown.
kill -TERM "${pids[@]:0:3}" 2>/dev/null || true
for _ in $(seq 50); do
    [ "$(grep -l '^final' "$dir"/faults-?.log 2>/dev/null | wc -l)" -eq 3 ] && break
    sleep 0.1
done
dropped=$(in_ns "$router" iptables -L INPUT -v -n -x | awk '/statistic/ {print $1}')
python3 - "$dir" "$dropped" <<'PY'
import re, sys
reports = []
for relay in "abc":
    lines = [l for l in open(f"{sys.argv[1]}/faults-{relay}.log") if l.startswith("final ")]
    reports.append({k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", lines[-1] if lines else "")})
s = lambda k: sum(r.get(k, 0) for r in reports)
mean = sum(r.get("mean_delay_ms", 0) * r.get("forwarded", 0) for r in reports) / max(1, s("forwarded"))
print(f"netns-test: faults: {s('received')} datagrams through the forwarders, {s('reordered')} of them overtaken "
      f"(reordered), {s('duplicated')} duplicated; delay mean {mean:.0f} ms, max {max(r.get('max_delay_ms', 0) for r in reports)} ms; "
      f"iptables dropped {sys.argv[2]} at random", file=sys.stderr)
PY
say "PASSED: every message delivered exactly once through loss, jitter, reordering and a ${partition} s partition (cut: $cut)" \
    "($((${SECIRC_NETNS_TEST_SECONDS:-300} - $(left))) s after the build)"
