#!/bin/sh
# Entrypoint of a relay that joins an existing first ring: waits for the first-ring relay's API,
# reads its identity key from /v1/relay, and starts secirc-relay trusting it.
# Usage: secirc-join.sh FIRST_RING_HTTP FIRST_RING_UDP [secirc-relay flags...]
set -eu
ring_http=$1
ring_udp=$2
shift 2
for _ in $(seq 300); do
    info=$(curl -sf "$ring_http/v1/relay" || true)
    [ -n "$info" ] && break
    sleep 0.2
done
key=$(printf '%s' "$info" | sed -n 's/.*"identity_key":"\([0-9a-f]\{64\}\)".*/\1/p')
[ -n "$key" ] || { echo "secirc-join: no identity key from $ring_http/v1/relay" >&2; exit 1; }
export SECIRC_SECURITY_FIRST_RING_MEMBERS="[{public_key: $key, udp: '$ring_udp', http: '$ring_http'}]"
exec secirc-relay "$@"
