#!/usr/bin/env bash
# Starts three relays on this machine as a mesh: A is the first ring (signs the directory),
# B and C trust A and join through it. Each relay is one command; this script only finds A's
# identity key for the other two. Ctrl-C stops all three. Data in ${MESH_DIR:-/tmp/secirc-mesh}.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh
swift build --product secirc-relay
relay=.build/debug/secirc-relay
dir=${MESH_DIR:-/tmp/secirc-mesh}
mkdir -p "$dir"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM

# All three advertise 127.0.0.1: A (the first ring) lifts the caps of 2 relays per address and 4 per /24.
SECIRC_SECURITY_ADMISSION_MAX_RELAYS_PER_ADDRESS=0 SECIRC_SECURITY_ADMISSION_MAX_RELAYS_PER_PREFIX=0 \
    $relay --data-dir "$dir/a" --udp-listen 127.0.0.1:7001 --http-listen 127.0.0.1:8001 & pids+=($!)
for _ in $(seq 100); do curl -sf http://127.0.0.1:8001/v1/relay >/dev/null && break; sleep 0.1; done
key=$(curl -sf http://127.0.0.1:8001/v1/relay | python3 -c 'import json,sys; print(json.load(sys.stdin)["identity_key"])')
ring="[{public_key: $key, udp: '127.0.0.1:7001', http: 'http://127.0.0.1:8001'}]"

SECIRC_SECURITY_FIRST_RING_MEMBERS="$ring" $relay --data-dir "$dir/b" --udp-listen 127.0.0.1:7002 --http-listen 127.0.0.1:8002 & pids+=($!)
SECIRC_SECURITY_FIRST_RING_MEMBERS="$ring" $relay --data-dir "$dir/c" --udp-listen 127.0.0.1:7003 --http-listen 127.0.0.1:8003 & pids+=($!)

echo "mesh: A http://127.0.0.1:8001 (first ring), B http://127.0.0.1:8002, C http://127.0.0.1:8003"
echo "admin tokens: $dir/{a,b,c}/admin.token   e.g. curl -H \"Authorization: Bearer \$(cat $dir/a/admin.token)\" http://127.0.0.1:8001/v1/admin/status"
wait
