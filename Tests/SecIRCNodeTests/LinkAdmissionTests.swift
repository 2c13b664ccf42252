import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport
import Testing

/// A relay's link manager and the hosts that talk to it, on a manual clock.
struct AdmissionHarness {
    var now = UnixTime(seconds: 1_800_000_000)
    var rng = SeededRandom(seed: "admission")
    let relayKey: AgreementPrivateKey
    let relayPeer: LinkPeer
    var relay: LinkManager

    init(_ tune: (inout LinkManager.Configuration) -> Void = { _ in }) {
        var keys = SeededRandom(seed: "admission keys")
        relayKey = AgreementPrivateKey(using: &keys)
        relayPeer = LinkPeer(id: SigningPrivateKey(using: &keys).publicKey.id, address: try! SocketAddress(host: "10.0.0.1", port: 6690),
                             linkKey: relayKey.publicKey)
        var configuration = LinkManager.Configuration(localStatic: relayKey)
        tune(&configuration)
        relay = LinkManager(configuration: configuration, now: now, rng: &rng)
    }

    static let frame = [UInt8](repeating: 7, count: PacketGeometry.standard.linkFrameLength)

    /// A node at `host` sending one frame to the relay; `exchange` runs it to the end.
    struct Node {
        var links: LinkManager
        let address: SocketAddress
        /// Datagrams the node sent that the relay has not seen yet.
        var outbox: [[UInt8]] = []
    }

    mutating func node(_ host: String, port: UInt16 = 5000, key: AgreementPrivateKey? = nil) -> Node {
        var configuration = LinkManager.Configuration.client
        configuration.localStatic = key
        // A flooding node's frames pile up behind handshakes that are never answered.
        configuration.pendingPerPeer = 4096
        configuration.pendingTotal = 4096
        return Node(links: LinkManager(configuration: configuration, now: now, rng: &rng),
                    address: try! SocketAddress(host: host, port: port))
    }

    /// Has `node` send a frame; returns its first datagram (an initiation) without delivering it.
    mutating func initiation(from node: inout Node) -> [UInt8] {
        var out: [Datagram] = []
        _ = node.links.send(Self.frame, to: relayPeer, now: now, rng: &rng, out: &out)
        return out[0].bytes
    }

    /// Delivers `bytes` from `node` to the relay; returns the relay's answers.
    mutating func deliver(_ bytes: [UInt8], from node: Node) -> [[UInt8]] {
        var out: [Datagram] = []
        _ = relay.receive(bytes, from: node.address, now: now, rng: &rng, out: &out)
        return out.map(\.bytes)
    }

    /// Sends a frame from `node` and exchanges datagrams until both sides are quiet; returns the
    /// frames the relay received from it (the keepalive padding frame left out).
    @discardableResult
    mutating func exchange(_ node: inout Node) -> Int {
        var out: [Datagram] = []
        _ = node.links.send(Self.frame, to: relayPeer, now: now, rng: &rng, out: &out)
        var toRelay = out.map(\.bytes)
        var frames = 0
        while !toRelay.isEmpty {
            var toNode: [[UInt8]] = []
            for bytes in toRelay {
                var answers: [Datagram] = []
                if let delivery = relay.receive(bytes, from: node.address, now: now, rng: &rng, out: &answers),
                   delivery.frame.first != 0 {
                    frames += 1
                }
                toNode += answers.map(\.bytes)
            }
            toRelay = []
            for bytes in toNode {
                var replies: [Datagram] = []
                _ = node.links.receive(bytes, from: relayPeer.address, now: now, rng: &rng, out: &replies)
                toRelay += replies.map(\.bytes)
            }
        }
        return frames
    }

    mutating func advance(by duration: Duration) {
        now = now.adding(duration)
        var out: [Datagram] = []
        _ = relay.tick(now: now, rng: &rng, out: &out)
    }
}

/// Who gets a responder session: per-source budgets, the unconfirmed table and the room kept
/// for relays, decided before any key agreement (issue 10's handshake flood).
@Suite struct LinkAdmissionTests {
    /// One host sending 2,000 valid initiations at once gets 16 answered (its unconfirmed budget)
    /// and the rest refused before any key agreement; another host links meanwhile; the
    /// unanswered sessions are gone after five seconds.
    @Test func aFloodFromOneHostIsRefusedBeforeKeyAgreement() {
        var h = AdmissionHarness()
        var attacker = h.node("10.0.0.66")
        var answered = 0
        for _ in 0..<2_000 {
            let bytes = h.initiation(from: &attacker)
            attacker.links.reset(h.relayPeer.id)
            answered += h.deliver(bytes, from: attacker).count
        }
        #expect(answered == 16)
        #expect(h.relay.counters.handshakes == 16, "key agreement ran for answered initiations only")
        #expect(h.relay.counters.admissionRefusals == [.sourceUnconfirmed: 1_984])
        #expect(h.relay.unconfirmedCount == 16)

        var alice = h.node("10.0.0.9")
        #expect(h.exchange(&alice) == 1, "another host still links and its frame arrives")
        #expect(h.relay.sessionCount == 17)

        h.advance(by: .seconds(5))
        #expect(h.relay.unconfirmedCount == 0)
        #expect(h.relay.counters.unconfirmedExpired == 16)
        #expect(h.relay.sessionCount == 1, "alice's confirmed session stays")
        var again = h.node("10.0.0.66", port: 5001)
        #expect(h.exchange(&again) == 1, "the host may link again once its handshakes are gone")
    }

    /// Initiations with a good mac1 (anyone can compute it from the relay's public key) and
    /// garbage after it cost a key agreement each: they spend the host's rate, so after its
    /// burst the rest are refused before any X25519.
    @Test func garbageAfterAGoodMAC1SpendsTheHostsRate() {
        var h = AdmissionHarness()
        var attacker = h.node("10.0.0.66")
        let macKey = LinkMAC.mac1Key(responderStatic: h.relayPeer.linkKey)
        for _ in 0..<200 {
            var bytes = h.initiation(from: &attacker)
            attacker.links.reset(h.relayPeer.id)
            let mac1 = LinkInitiation.mac1Offset(.nk)
            bytes[mac1 - 1] ^= 0xFF // the encrypted timestamp's tag
            bytes.replaceSubrange(mac1..<(mac1 + 16), with: LinkMAC.mac1(bytes[..<mac1], key: macKey))
            #expect(h.deliver(bytes, from: attacker).allSatisfy { LinkPacket.messageType(of: $0) == .cookieReply })
        }
        let failed = h.relay.counters.dropped[.decryptFailed, default: 0]
        #expect(failed == 20, "key agreement ran until half the burst; then cookies were demanded (\(failed))")
        #expect(h.relay.counters.dropped[.needsCookie] == 180)
        var alice = h.node("10.0.0.9")
        #expect(h.exchange(&alice) == 1, "another host is unaffected")
    }

    /// A host that completes its handshakes is held to its rate: cookies once half its burst is
    /// spent (only for that host), then refusals until its budget refills.
    @Test func cookiesAreDemandedPerHostThenTheRateRefuses() {
        var h = AdmissionHarness { $0.admission.burst = 4 }
        var busy = h.node("10.0.0.66")
        #expect(h.exchange(&busy) == 1)
        busy.links.reset(h.relayPeer.id)
        #expect(h.exchange(&busy) == 1)
        busy.links.reset(h.relayPeer.id)
        // Two of four spent: the host's next initiation gets a cookie reply, not a response.
        let third = h.initiation(from: &busy)
        #expect(h.deliver(third, from: busy).map { LinkPacket.messageType(of: $0) } == [.cookieReply])
        var quiet = h.node("10.0.0.9")
        let other = h.initiation(from: &quiet)
        #expect(h.deliver(other, from: quiet).map { LinkPacket.messageType(of: $0) } == [.response])

        var fresh = h.node("10.0.0.66", port: 5001)
        #expect(h.exchange(&fresh) == 1, "with the cookie (mac2) the host is answered")
        fresh.links.reset(h.relayPeer.id)
        #expect(h.exchange(&fresh) == 1)
        fresh.links.reset(h.relayPeer.id)
        #expect(h.exchange(&fresh) == 0, "the burst is spent")
        #expect(h.relay.counters.admissionRefusals[.sourceRate, default: 0] >= 1)

        h.advance(by: .milliseconds(500)) // 10 a second: five handshakes' worth
        fresh.links.reset(h.relayPeer.id)
        #expect(h.exchange(&fresh) == 2, "the refused handshake's frame and the new one")
    }

    /// Unconfirmed handshakes from many hosts fill only their own table: confirmed sessions keep
    /// working, new initiations are refused until the waiting ones expire.
    @Test func unconfirmedHandshakesNeverPushOutSessions() {
        var h = AdmissionHarness { $0.maxUnconfirmed = 4 }
        var alice = h.node("10.0.0.9")
        #expect(h.exchange(&alice) == 1)
        // Each attacker answers the cookie reply it gets once three wait (proving its address),
        // and never confirms.
        var responses = 0
        for host in 0..<10 {
            var attacker = h.node("10.0.1.\(host + 1)")
            var answers = h.deliver(h.initiation(from: &attacker), from: attacker)
            if answers.map({ LinkPacket.messageType(of: $0) }) == [.cookieReply] {
                var retry: [Datagram] = []
                _ = attacker.links.receive(answers[0], from: h.relayPeer.address, now: h.now, rng: &h.rng, out: &retry)
                answers = h.deliver(retry[0].bytes, from: attacker)
            }
            responses += answers.filter { LinkPacket.messageType(of: $0) == .response }.count
        }
        #expect(responses == 4)
        #expect(h.relay.counters.admissionRefusals[.unconfirmedFull] == 6)
        #expect(h.exchange(&alice) == 1, "alice's session carries frames")
        var bob = h.node("10.0.0.10")
        #expect(h.exchange(&bob) == 0, "no room to answer bob while four wait")
        h.advance(by: .seconds(5))
        bob.links.reset(h.relayPeer.id)
        #expect(h.exchange(&bob) == 2, "the refused handshake's frame and the new one")
    }

    /// One host (an IPv4 address, whatever its ports) holds at most `sessionsPerSource`
    /// confirmed sessions; another host still links.
    @Test func oneHostHoldsAtMostItsSessions() {
        var h = AdmissionHarness { $0.admission.sessionsPerSource = 2 }
        var first = h.node("10.0.0.9", port: 5000), second = h.node("10.0.0.9", port: 5001), third = h.node("10.0.0.9", port: 5002)
        #expect(h.exchange(&first) == 1 && h.exchange(&second) == 1)
        #expect(h.exchange(&third) == 0, "a third session from the same host")
        #expect(h.relay.counters.admissionRefusals[.sourceSessions] == 1)
        var other = h.node("10.0.0.10")
        #expect(h.exchange(&other) == 1)
        #expect(h.exchange(&first) == 1 && h.exchange(&second) == 1, "the host's two sessions still carry frames")
    }

    /// Clients may fill the session table less the relays' reserved room; a known relay still
    /// links.
    @Test func relaysKeepReservedRoom() {
        var h = AdmissionHarness {
            $0.maxSessions = 3
            $0.reservedForRelays = 1
        }
        var first = h.node("10.0.0.9"), second = h.node("10.0.0.10"), third = h.node("10.0.0.11")
        #expect(h.exchange(&first) == 1 && h.exchange(&second) == 1)
        #expect(h.exchange(&third) == 0)
        #expect(h.relay.counters.sessionLimit == 1)

        var keys = SeededRandom(seed: "other relay")
        let otherKey = AgreementPrivateKey(using: &keys)
        let otherID = SigningPrivateKey(using: &keys).publicKey.id
        var other = h.node("10.0.0.2", port: 6690, key: otherKey)
        h.relay.addPeer(LinkPeer(id: otherID, address: other.address, linkKey: otherKey.publicKey))
        #expect(h.exchange(&other) == 1, "the relay uses the reserved room")
        #expect(h.relay.linkedPeers == [otherID])
    }
}
