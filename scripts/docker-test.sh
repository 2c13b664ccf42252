#!/usr/bin/env bash
# End-to-end test of the container images (root, Debian/Ubuntu): installs a Docker engine and
# compose when missing and starts dockerd when none runs, builds the images (docker/build.sh:
# base image by debootstrap, kept once made; binaries on the host), brings up docker/compose.yaml
# as the project secirc-test, has alice add bob's invite, sends a message each way and waits for
# each to be delivered (end-to-end receipt) and received, then tears the project down with its
# volumes (also on failure or time-out, after printing the containers' logs). Containers use the
# host's network on 127.0.0.1 only; a dockerd started here has no bridge (--bridge=none).
# Time limits: SECIRC_DOCKER_TEST_MINUTES for everything (default 30: a first build on a fresh
# 2-core machine included), SECIRC_DOCKER_NET_MINUTES from `up` to the last receipt (default 5);
# every step that could hang runs under timeout(1) within them.
set -euo pipefail
cd "$(dirname "$0")/.."
project=secirc-test
started=$(date +%s)
deadline=$((started + ${SECIRC_DOCKER_TEST_MINUTES:-30} * 60))
dockerd_log=/tmp/secirc-dockerd.log
say() { echo "docker-test: [$(($(date +%s) - started))s] $*" >&2; }

# --- the engine and compose ---------------------------------------------------------------------
apt_install() {
    [ "$(id -u)" -eq 0 ] || { echo "docker-test: need root to install $*" >&2; exit 1; }
    say "installing $*"
    ./scripts/apt-get.sh update -q >/dev/null
    ./scripts/apt-get.sh install -y -q --no-install-recommends "$@" >/dev/null
}
command -v dockerd >/dev/null || apt_install docker.io
if docker compose version >/dev/null 2>&1; then
    compose_cmd=(docker compose)
else
    command -v docker-compose >/dev/null || apt_install docker-compose
    compose_cmd=(docker-compose)
fi
left() { local s=$((deadline - $(date +%s))); echo $((s > 0 ? s : 1)); }
compose() { timeout "$(left)" "${compose_cmd[@]}" -p "$project" -f docker/compose.yaml "$@"; }

dockerd_pid=""
if ! docker info >/dev/null 2>&1; then
    say "starting dockerd (log $dockerd_log)"
    dockerd --bridge=none --iptables=false --ip6tables=false >"$dockerd_log" 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { tail -20 "$dockerd_log" >&2; echo "docker-test: dockerd did not start" >&2; exit 1; }
fi

# --- teardown, always ---------------------------------------------------------------------------
finish() {
    local status=$?
    trap - EXIT INT TERM
    if [ "$status" -ne 0 ]; then
        [ "$status" -eq 124 ] && say "a step ran past the time limit"
        say "FAILED (exit $status): containers and their logs"
        deadline=$(($(date +%s) + 120))
        compose ps >&2 || true
        compose logs --no-color --tail=80 >&2 || true
    fi
    deadline=$(($(date +%s) + 120))
    compose down -v --remove-orphans >/dev/null 2>&1 || true
    if [ -n "$dockerd_pid" ]; then
        kill "$dockerd_pid" 2>/dev/null || true
        wait "$dockerd_pid" 2>/dev/null || true
    fi
    say "done, exit $status, wall time $(($(date +%s) - started)) s"
    exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- images -------------------------------------------------------------------------------------
say "building images"
timeout "$(left)" docker/build.sh
for image in secirc-relay secirc-client secirc-cli; do
    size=$(docker image inspect -f '{{.Size}}' "$image")
    [ "$size" -le 150000000 ] || { echo "docker-test: $image is $size bytes, over the 150 MB budget" >&2; exit 1; }
done
say "images built, each within 150 MB"

# --- the test network ---------------------------------------------------------------------------
compose down -v --remove-orphans >/dev/null 2>&1 || true   # what a killed run left
for port in 6690 6691 6692 6693 6694 6695 6696 6697; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "docker-test: port $port on 127.0.0.1 is taken; docker/compose.yaml needs 6690-6697" >&2
        exit 1
    fi
done
say "compose up"
compose up -d
net_deadline=$(($(date +%s) + ${SECIRC_DOCKER_NET_MINUTES:-5} * 60))
[ "$net_deadline" -lt "$deadline" ] || net_deadline=$deadline

# secirc WHO ARGS...: the command line (image secirc-cli) against WHO's daemon, with the token
# from WHO's volume, as the README does it.
secirc() {
    local who=$1 port=6692; shift
    [ "$who" = bob ] && port=6697
    timeout 30 docker run --rm --read-only --network host -v "${project}_$who:/var/lib/secirc:ro" \
        -e SECIRC_API="http://127.0.0.1:$port" secirc-cli "$@"
}
# until DESCRIPTION COMMAND...: retries COMMAND every second until it succeeds or the deadline.
until_ok() {
    local what=$1; shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$net_deadline" ] || { echo "docker-test: timed out waiting for $what" >&2; return 1; }
        sleep 1
    done
    say "$what"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$(compose ps -q "$1")")" = healthy ]; }
# delivered FROM TO TEXT: FROM's message TEXT to TO is delivered, and TO holds it as received.
delivered() {
    secirc "$1" --json messages "$2" | json "sys.exit(not any(m['text'] == '$3' and m['direction'] == 'out' and m['state'] == 'delivered' for m in d['messages']))" &&
        secirc "$2" --json messages "$1" | json "sys.exit(not any(m['text'] == '$3' and m['direction'] == 'in' for m in d['messages']))"
}
directory_of_3() { secirc "$1" --json network | json "sys.exit((d.get('directory') or {}).get('relays', 0) < 3)"; }
has_contact() { secirc "$1" --json contacts | json "sys.exit(not any(c['name'] == '$2' for c in d['contacts']))"; }

for service in relay-ring relay-b relay-c alice bob; do until_ok "$service healthy" healthy "$service"; done
# A three-hop path needs all three relays in the directory the clients hold.
until_ok "alice holds a directory of 3 relays" directory_of_3 alice
until_ok "bob holds a directory of 3 relays" directory_of_3 bob
invite=$(secirc bob invite 2>/dev/null)
secirc alice contacts add "$invite" --name bob >/dev/null
say "alice added bob's invite"
secirc alice send bob "hello bob, from alice" >/dev/null
until_ok "alice → bob delivered and received" delivered alice bob "hello bob, from alice"
until_ok "bob knows alice" has_contact bob alice
secirc bob send alice "hello alice, from bob" >/dev/null
until_ok "bob → alice delivered and received" delivered bob alice "hello alice, from bob"
say "PASSED: a message each way, both delivered"
