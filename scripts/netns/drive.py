#!/usr/bin/env python3
"""The messages of scripts/netns-test.sh, through its namespaces: introduces alice and bob, sends
a batch each way through the faults, then a batch each way during a partition of
--partition-seconds (--cut alice: alice cut off from everything; --cut relays: relays b and c
cut off from each other, each still reaching a and the clients), heals, and checks that every message
was delivered exactly once: listed once, as received, on the receiving side, and once, as
`delivered` (its end-to-end receipt), on the sending side. Prints the figures; exits 1 on any
failure. Reaches each client's API (127.0.0.1:6692 in its namespace) with `ip netns exec curl`.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--dir", required=True)
parser.add_argument("--tag", required=True)
parser.add_argument("--messages", type=int, default=20)
parser.add_argument("--partition-seconds", type=int, default=60)
parser.add_argument("--cut", choices=("alice", "relays"), default="alice", help="what the partition cuts off")
parser.add_argument("--deadline", type=int, required=True, help="unix seconds: give up then")
parser.add_argument("--settle-seconds", type=int, default=10, help="wait this long after the last receipt for late copies")
args = parser.parse_args()
started = time.time()
tokens = {who: open(f"{args.dir}/{who}/data/api.token").read().strip() for who in ("alice", "bob")}
router = f"{args.tag}-net"
ids = {}


def say(text):
    print(f"netns-test: [drive {time.time() - started:.0f}s] {text}", file=sys.stderr, flush=True)


def fail(text):
    say(f"FAILED: {text}")
    sys.exit(1)


def api(who, method, path, body=None, ok=(200, 201, 202)):
    command = ["ip", "netns", "exec", f"{args.tag}-{who}", "curl", "-sS", "--max-time", "10", "-X", method,
               "-H", f"Authorization: Bearer {tokens[who]}", "-w", "\n%{http_code}", f"http://127.0.0.1:6692{path}"]
    if body is not None:
        command += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    result = subprocess.run(command, capture_output=True, text=True)
    text, _, status = result.stdout.rpartition("\n")
    if result.returncode != 0 or int(status or 0) not in ok:
        raise RuntimeError(f"{who}: {method} {path}: curl {result.returncode}, HTTP {status}: {text[:300]} {result.stderr[:200]}")
    return json.loads(text) if text else None


def until(what, check, deadline=None, every=0.5):
    deadline = min(deadline or args.deadline, args.deadline)
    while True:
        try:
            value = check()
            if value:
                say(what)
                return value
        except RuntimeError as error:
            last = error
        if time.time() > deadline:
            fail(f"timed out waiting for {what}")
        time.sleep(every)


def cut(on):
    """The partition, made or healed, with DROP rules that tell no sender (as on a real cut link).
    alice: whatever she sends is dropped as it reaches the router, whatever is sent to her as it
    reaches her namespace. relays: b's datagrams to c's forwarder (10.77.0.1:7103) and c's to b's
    (7102) are dropped at the router, and what those forwarders send back to b and c at b and c;
    so whichever of them made a link, nothing crosses between b and c, and both still reach a
    and the clients."""
    action = "-I" if on else "-D"
    if args.cut == "alice":
        rules = [(router, "INPUT", "-i", "n-alice"), (router, "FORWARD", "-i", "n-alice"),
                 (router, "FORWARD", "-o", "n-alice"), (f"{args.tag}-alice", "INPUT", "-i", "eth0")]
    else:
        rules = [(router, "INPUT", "-i", "n-b", "-p", "udp", "-d", "10.77.0.1", "--dport", "7103"),
                 (router, "INPUT", "-i", "n-c", "-p", "udp", "-d", "10.77.0.1", "--dport", "7102"),
                 (f"{args.tag}-b", "INPUT", "-p", "udp", "-s", "10.77.0.1", "--sport", "7103"),
                 (f"{args.tag}-c", "INPUT", "-p", "udp", "-s", "10.77.0.1", "--sport", "7102")]
    for ns, chain, *match in rules:
        subprocess.run(["ip", "netns", "exec", ns, "iptables", action, chain, *match, "-j", "DROP"], check=True)


# --- introductions ------------------------------------------------------------------------------
for who in ("alice", "bob"):
    ids[who] = api(who, "GET", "/v1/identity")["id"]
    until(f"{who} holds a verified directory and names 2 mailbox relays in its invite",
          lambda: len(api(who, "GET", "/v1/invite")["mailboxes"]) >= 2)
invite = api("bob", "GET", "/v1/invite")["uri"]
api("alice", "POST", "/v1/contacts", {"invite": invite, "name": "bob"})
until("bob knows alice (the session set-up crossed the faults)",
      lambda: any(c["id"] == ids["alice"] for c in api("bob", "GET", "/v1/contacts")["contacts"]))
api("bob", "PUT", f"/v1/contacts/{ids['alice']}", {"name": "alice"})

# --- sending and checking -----------------------------------------------------------------------
sent = {}  # text -> {from, to, at, delivered_at, received_at}


def send_batch(phase):
    texts = []
    for n in range(1, args.messages + 1):
        for frm, to in (("alice", "bob"), ("bob", "alice")):
            text = f"{phase} {frm}->{to} {n}/{args.messages}"
            api(frm, "POST", f"/v1/conversations/{ids[to]}/messages", {"text": text})
            sent[text] = {"from": frm, "to": to, "at": time.time()}
            texts.append(text)
    say(f"{phase}: sent {args.messages} each way")
    return texts


def conversation(who):
    peer = "bob" if who == "alice" else "alice"
    return api(who, "GET", f"/v1/conversations/{ids[peer]}/messages?limit=500")["messages"]


last_snapshot = 0.0


def observe():
    """Notes when each message was first seen delivered (sender) and received (receiver); every
    2 s appends both clients' /v1/network to <dir>/network.jsonl (to see what a slow run did)."""
    global last_snapshot
    now = time.time()
    if now - last_snapshot >= 2:
        last_snapshot = now
        with open(f"{args.dir}/network.jsonl", "a") as f:
            for who in ("alice", "bob"):
                f.write(json.dumps({"t": round(now - started, 1), "who": who, "network": api(who, "GET", "/v1/network")}) + "\n")
    for who in ("alice", "bob"):
        for m in conversation(who):
            entry = sent.get(m["text"])
            if entry is None:
                continue
            if m["direction"] == "out" and m["state"] == "delivered":
                entry.setdefault("delivered_at", now)
            if m["direction"] == "in":
                entry.setdefault("received_at", now)


def all_done(texts):
    observe()
    return all("delivered_at" in sent[t] and "received_at" in sent[t] for t in texts)


def figures(phase, texts, since=None):
    """Latency from sending (or from `since`, the heal, if later) to receipt and to delivery, in
    each direction."""
    outgoing = {m["text"]: m for who in ("alice", "bob") for m in conversation(who) if m["direction"] == "out"}
    for t in texts:
        sent[t]["attempts"] = outgoing[t]["attempts"] if t in outgoing else None
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]
    for frm, to in (("alice", "bob"), ("bob", "alice")):
        these = [t for t in texts if sent[t]["from"] == frm]
        start = lambda t: max(sent[t]["at"], since or 0)
        received = [sent[t]["received_at"] - start(t) for t in these]
        receipts = [sent[t]["delivered_at"] - start(t) for t in these]
        attempts = [sent[t]["attempts"] or 0 for t in these]
        say(f"{phase}, {frm} -> {to}: {len(these)} messages; received after p50 {q(received, .5):.1f} s, "
            f"p90 {q(received, .9):.1f} s, max {max(received):.1f} s; receipt back after p50 {q(receipts, .5):.1f} s, "
            f"p90 {q(receipts, .9):.1f} s, max {max(receipts):.1f} s; sends per message mean {statistics.mean(attempts):.2f}, "
            f"max {max(attempts)}")
    with open(f"{args.dir}/messages.json", "w") as f:
        json.dump(sent, f, indent=1)


# Phase 1: loss, jitter and reordering.
faults = send_batch("faults")
until(f"faults: all {len(faults)} delivered and received", lambda: all_done(faults), deadline=time.time() + 150)
figures("faults", faults)

# Phase 2: the partition, both sending; then healed.
cut(True)
say(f"partition: {'alice cut off' if args.cut == 'alice' else 'relays b and c cut off from each other'} "
    f"for {args.partition_seconds} s")
try:
    partitioned = send_batch("partition")
    heal_at = time.time() + args.partition_seconds
    while time.time() < heal_at:
        observe()
        time.sleep(max(0.0, min(0.5, heal_at - time.time())))
    observe()
    crossed = [t for t in partitioned if "received_at" in sent[t]]
    if args.cut == "alice" and crossed:
        # Nothing can cross while she is cut off; bob's messages wait in her mailboxes.
        fail(f"{len(crossed)} messages to or from alice arrived while she was cut off: the partition leaks")
    if args.cut == "relays":
        say(f"partition: {len(crossed)} of {len(partitioned)} received while b and c were cut off")
finally:
    cut(False)
healed = time.time()
say("partition healed")
until(f"partition: all {len(partitioned)} delivered and received", lambda: all_done(partitioned), deadline=time.time() + 150)
if args.cut == "alice":
    figures("partition (latency from the heal)", partitioned, since=healed)
else:
    figures("partition (latency from sending)", partitioned)
say(f"all {len(sent)} delivered; waiting {args.settle_seconds} s for late copies")
time.sleep(args.settle_seconds)

# --- exactly once -------------------------------------------------------------------------------
problems = []
attempts = []
for who in ("alice", "bob"):
    messages = conversation(who)
    incoming = [m["text"] for m in messages if m["direction"] == "in"]
    outgoing = [m for m in messages if m["direction"] == "out"]
    expected_in = {t for t, e in sent.items() if e["to"] == who}
    expected_out = {t for t, e in sent.items() if e["from"] == who}
    for t in expected_in:
        if incoming.count(t) != 1:
            problems.append(f"{who} lists {t!r} {incoming.count(t)} times")
    for t in set(incoming) - expected_in:
        problems.append(f"{who} lists {t!r}, which nobody sent")
    for t in expected_out:
        copies = [m for m in outgoing if m["text"] == t]
        if len(copies) != 1 or copies[0]["state"] != "delivered":
            problems.append(f"{who}'s {t!r}: {[m['state'] for m in copies]}")
        attempts += [m["attempts"] for m in copies]
    network = api(who, "GET", "/v1/network")
    say(f"{who}: {len(incoming)} received, {len(outgoing)} sent, outbox {network['outbox']}, "
        f"drops {json.dumps(network['drops'], sort_keys=True)}")
if problems:
    for p in problems[:20]:
        say(p)
    fail(f"{len(problems)} messages not delivered exactly once")
say(f"exactly once: {len(sent)} messages, each listed once by its receiver and delivered once; sends per message "
    f"mean {statistics.mean(attempts):.2f}, max {max(attempts)} ({sum(attempts) - len(attempts)} resends)")
