#!/bin/sh
# secirc-ring-init UDP HTTP: run once, in the relay image, before a network starts. Makes the
# first-ring relay's identity in its data volume (once; an existing one is kept) and writes the
# security.yaml that every relay and client of the network trusts: that relay, at UDP and HTTP.
#   volumes: the first-ring relay's data at /var/lib/secirc, the shared ring at /etc/secirc/ring
# The identity is what secirc-relay itself would make (a 32-byte Ed25519 seed, identity.key,
# 0600), made here so that its public key is known before any daemon starts; the secret never
# leaves the volume.
set -eu
[ $# -eq 2 ] || { echo "usage: secirc-ring-init UDP_HOST:PORT HTTP_URL" >&2; exit 64; }
udp=$1
http=$2
key=/var/lib/secirc/identity.key
out=/etc/secirc/ring/security.yaml
# PKCS#8 DER of an Ed25519 key: these 16 bytes, then the 32-byte seed.
pkcs8_header='\060\056\002\001\000\060\005\006\003\053\145\160\004\042\004\040'

umask 077
if [ ! -s "$key" ]; then
    der=$(mktemp /var/lib/secirc/identity.key.XXXXXX)
    openssl genpkey -algorithm ed25519 -outform DER >"$der"
    [ "$(wc -c <"$der")" -eq 48 ] || { echo "secirc-ring-init: unexpected key size from openssl" >&2; rm -f "$der"; exit 1; }
    tail -c 32 "$der" >"$der.seed" && rm -f "$der" && mv "$der.seed" "$key"
fi
public_key=$({ printf "$pkcs8_header"; cat "$key"; } | openssl pkey -inform DER -pubout -outform DER \
    | tail -c 32 | od -An -v -tx1 | tr -d ' \n')
[ ${#public_key} -eq 64 ] || { echo "secirc-ring-init: cannot derive the public key of $key" >&2; exit 1; }

cat >"$out.tmp" <<YAML
# Written by secirc-ring-init: the first ring every relay and client of this network trusts
# (config/security.yaml explains the keys). Public: no secret here.
first_ring:
  members:
    - {public_key: $public_key, udp: '$udp', http: '$http'}
# A test network on one host: every relay advertises 127.0.0.1, above the default caps of 2 relays
# per address and 4 per /24; its relays are all new, so they get full weight and `mailbox` at once.
admission: {max_relays_per_address: 16, max_relays_per_prefix: 16, probation_hours: 0}
YAML
chmod 0644 "$out.tmp"
mv "$out.tmp" "$out"
echo "secirc-ring-init: first ring $public_key at udp $udp, $http"
