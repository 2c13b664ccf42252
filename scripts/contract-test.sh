#!/usr/bin/env bash
# Contract test (docs/CONTRACT.md): schemathesis, every check, against the relay API
# (openapi/relay.yaml, public and admin routes) and the client API (openapi/client.yaml) of a
# devnet. Exits non-zero on any finding.
#
# Installs schemathesis (pinned) into $SCHEMATHESIS_VENV when it is not there, builds under the
# build lock, then runs the devnet and schemathesis inside a network namespace of their own with
# only loopback: fuzzed admin requests add peers at random addresses, and nothing may be sent to
# them. Environment: CONTRACT_EXAMPLES (test cases per operation and phase, default 100),
# CONTRACT_SEED (default: random, printed), CONTRACT_DIR (kept; default a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=4.32.5
venv=${SCHEMATHESIS_VENV:-/opt/schemathesis}
st="$venv/bin/st"

if [ "${1:-}" != --inside ]; then
    [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
    if [ "$("$st" --version 2>/dev/null)" != "st, version $version" ]; then
        if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
            ./scripts/apt-get.sh update -q && ./scripts/apt-get.sh install -y -q python3 python3-venv
        fi
        echo "contract: installing schemathesis $version into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet "schemathesis==$version"
    fi
    ./scripts/install-deps.sh
    flock /tmp/secirc-build.lock swift build
    if ! unshare --net true 2>/dev/null; then
        echo "contract: cannot make a network namespace (unshare --net; needs root or user namespaces)" >&2
        exit 1
    fi
    exec unshare --net "$0" --inside
fi

ip link set lo up
examples=${CONTRACT_EXAMPLES:-100}
seed=${CONTRACT_SEED:-$RANDOM$RANDOM}
dir=${CONTRACT_DIR:-$(mktemp -d /tmp/secirc-contract-XXXXXX)}
mkdir -p "$dir"
echo "contract: schemathesis $version, $examples examples per operation, seed $seed, devnet in $dir"

.build/debug/secirc devnet --ring 3 --plain-http --dir "$dir/devnet" >"$dir/devnet.out" 2>&1 &
devnet=$!
trap 'kill -INT $devnet 2>/dev/null; wait $devnet 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    grep -q '^devnet: up' "$dir/devnet.out" && break
    kill -0 $devnet 2>/dev/null || { cat "$dir/devnet.out"; exit 1; }
    sleep 0.1
done
grep -q '^devnet: up' "$dir/devnet.out" || { echo "contract: the devnet did not come up" >&2; cat "$dir/devnet.out"; exit 1; }

field() { python3 -c "import json,sys; m=json.load(open('$dir/devnet/devnet.json')); print($1)"; }
relay=$(field "m['relays'][0]['http']")
relay_token=$(cat "$(field "m['relays'][0]['admin_token_file']")")
client=$(field "m['clients']['alice']['api']")
client_token=$(cat "$(field "m['clients']['alice']['token_file']")")
export CONTRACT_CONTACT_ID=$(field "m['clients']['bob']['id']")

status=0
run() { # spec, base URL, token, extra options; output to $dir/<spec>.out, its own cache directory
    local spec=$1 url=$2 token=$3
    shift 3
    mkdir -p "$dir/${spec%.yaml}"
    # schemathesis keeps its cache (.schemathesis/) in the working directory
    (cd "$dir/${spec%.yaml}" && "$st" --config-file "$root/scripts/contract/${spec%.yaml}.toml" run "$root/openapi/$spec" \
        --url "$url" --checks all --header "Authorization: Bearer $token" --max-examples "$examples" --seed "$seed" \
        --no-color "$@") >"$dir/$spec.out" 2>&1
}
# The two runs at once (their devnet is shared, their daemons are not): each mostly waits on
# HTTP round trips. POST /v1/admin/drain stops the relay under test; RelayRoutesTests covers it.
run relay.yaml "$relay" "$relay_token" --exclude-path /v1/admin/drain &
relay_run=$!
run client.yaml "$client" "$client_token" &
client_run=$!
failed=()
wait $relay_run || failed+=(relay.yaml)
wait $client_run || failed+=(client.yaml)
# The output of a run with findings comes last, where a log's tail shows it.
for spec in relay.yaml client.yaml; do
    [[ " ${failed[*]} " == *" $spec "* ]] || { echo "contract: $spec (no findings)"; cat "$dir/$spec.out"; }
done
for spec in ${failed[@]+"${failed[@]}"}; do echo "contract: $spec FAILED"; cat "$dir/$spec.out"; status=1; done
if [ $status -ne 0 ]; then echo "contract: FAILED (seed $seed; the devnet's logs are in $dir/devnet)"; else echo "contract: no findings"; fi
exit $status
