import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport
import Testing

/// The one link manager, alone: a client side and a relay side exchanging datagrams by hand
/// on a manual clock.
@Suite struct LinkManagerTests {
    struct Pair {
        var now = UnixTime(seconds: 1_800_000_000)
        var rng = SeededRandom(seed: "links")
        var client: LinkManager
        var relay: LinkManager
        let relayPeer: LinkPeer
        let clientAddress = try! SocketAddress(host: "10.0.0.9", port: 5000)
        var atRelay: [[UInt8]] = []
        var atClient: [[UInt8]] = []
        /// What the relay saw arrive (frames, in order), and the session of the last one.
        var relayFrames: [[UInt8]] = []
        var relayFramesSession: UInt32?

        init(clientConfiguration: LinkManager.Configuration = .client, relayTune: (inout LinkManager.Configuration) -> Void = { _ in }) {
            var rng = SeededRandom(seed: "pair keys")
            let key = AgreementPrivateKey(using: &rng)
            var relayConfiguration = LinkManager.Configuration(localStatic: key)
            relayTune(&relayConfiguration)
            relay = LinkManager(configuration: relayConfiguration, now: now, rng: &rng)
            client = LinkManager(configuration: clientConfiguration, now: now, rng: &rng)
            relayPeer = LinkPeer(id: SigningPrivateKey(using: &rng).publicKey.id, address: try! SocketAddress(host: "10.0.0.1", port: 6690),
                                 linkKey: key.publicKey)
        }

        mutating func send(_ frame: [UInt8]) -> LinkManager.SendResult {
            var out: [Datagram] = []
            let result = client.send(frame, to: relayPeer, now: now, rng: &rng, out: &out)
            atRelay += out.map(\.bytes)
            return result
        }

        /// Delivers everything in flight both ways, optionally losing what goes to the relay.
        mutating func exchange(dropToRelay: Bool = false) {
            while !atRelay.isEmpty || !atClient.isEmpty {
                for bytes in atRelay where !dropToRelay {
                    var out: [Datagram] = []
                    // Frame kind 0 is padding (the initiator's key-confirmation keepalive).
                    if let delivery = relay.receive(bytes, from: clientAddress, now: now, rng: &rng, out: &out) {
                        relayFramesSession = delivery.session
                        if delivery.frame.first != 0 { relayFrames.append(delivery.frame) }
                    }
                    atClient += out.map(\.bytes)
                }
                atRelay = []
                for bytes in atClient {
                    var out: [Datagram] = []
                    _ = client.receive(bytes, from: relayPeer.address, now: now, rng: &rng, out: &out)
                    atRelay += out.map(\.bytes)
                }
                atClient = []
            }
        }

        mutating func advance(by duration: Duration) -> [ID] {
            now = now.adding(duration)
            var out: [Datagram] = []
            let failed = client.tick(now: now, rng: &rng, out: &out)
            atRelay += out.map(\.bytes)
            var relayOut: [Datagram] = []
            _ = relay.tick(now: now, rng: &rng, out: &relayOut)
            atClient += relayOut.map(\.bytes)
            return failed
        }
    }

    static let frame = [UInt8](repeating: 7, count: PacketGeometry.standard.linkFrameLength)

    @Test func framesWaitForTheHandshakeAndLeaveInOrder() {
        var pair = Pair()
        let frames = (0..<3).map { i in [UInt8](repeating: UInt8(i + 1), count: 100) }
        #expect(frames.map { pair.send($0) } == [.queued, .queued, .queued])
        #expect(pair.client.queuedFrames == 3)
        pair.exchange()
        #expect(pair.relayFrames == frames)
        #expect(pair.client.queuedFrames == 0)
        #expect(pair.client.linkedPeers == [pair.relayPeer.id])
        #expect(pair.send(Self.frame) == .sent)
        #expect(pair.client.counters.handshakes == 1 && pair.relay.counters.handshakes == 1)
    }

    @Test func anUnansweredHandshakeIsResentThenGivenUpAndTheFramesCounted() {
        var pair = Pair()
        _ = pair.send(Self.frame)
        pair.atRelay = [] // lost
        #expect(pair.client.nextDeadline == pair.now.adding(.seconds(1)), "the client resends after a second")
        #expect(pair.advance(by: .seconds(1)).isEmpty)
        #expect(pair.atRelay.count == 1, "a second initiation")
        pair.atRelay = []
        #expect(pair.advance(by: .milliseconds(2_500)) == [pair.relayPeer.id], "given up after 3.5 s")
        #expect(pair.client.counters.handshakeTimeouts == 1)
        #expect(pair.client.queuedFrames == 0)
    }

    @Test func queuesAreBoundedPerPeer() {
        var configuration = LinkManager.Configuration.client
        configuration.pendingPerPeer = 2
        var pair = Pair(clientConfiguration: configuration)
        #expect([pair.send(Self.frame), pair.send(Self.frame), pair.send(Self.frame)] == [.queued, .queued, .dropped])
        #expect(pair.client.counters.queueFull == 1)
    }

    /// Sending on a session older than `rekeyAfterTime` starts a new handshake while the old
    /// session still carries frames; an idle session just expires.
    @Test func rekeyOnSendAndExpiryWhenIdle() {
        var pair = Pair()
        _ = pair.send(Self.frame)
        pair.exchange()
        _ = pair.advance(by: .seconds(121))
        #expect(pair.send(Self.frame) == .sent)
        #expect(pair.atRelay.count == 2, "the frame and a new initiation")
        pair.exchange()
        #expect(pair.relay.counters.handshakes == 2)
        #expect(pair.relay.sessionCount == 2, "the old session lives until it expires")
        _ = pair.advance(by: .seconds(200))
        #expect(pair.client.sessionCount == 0 && pair.relay.sessionCount == 0)
        #expect(pair.client.linkedPeers.isEmpty)
        #expect(pair.send(Self.frame) == .queued, "a new link is made for the next frame")
    }

    /// Once clients hold their part of the table (all of it, or all but the room kept for
    /// relays' links), another client's initiation is not even answered (no key agreement spent).
    @Test(arguments: [(maxSessions: 1, reservedForRelays: 0), (maxSessions: 2, reservedForRelays: 1)])
    func theSessionTableIsBoundedAndTheRelaysRoomIsNotTheClients(limits: (maxSessions: Int, reservedForRelays: Int)) {
        var pair = Pair {
            $0.maxSessions = limits.maxSessions
            $0.reservedForRelays = limits.reservedForRelays
        }
        _ = pair.send(Self.frame)
        pair.exchange()
        #expect(pair.relayFrames.count == 1)
        var other = LinkManager(configuration: .client, now: pair.now, rng: &pair.rng)
        var out: [Datagram] = []
        other.send(Self.frame, to: pair.relayPeer, now: pair.now, rng: &pair.rng, out: &out)
        var answers: [Datagram] = []
        _ = pair.relay.receive(out[0].bytes, from: try! SocketAddress(host: "10.0.0.10", port: 5000), now: pair.now, rng: &pair.rng,
                               out: &answers)
        #expect(answers.isEmpty)
        #expect(pair.relay.counters.sessionLimit == 1)
    }

    /// Two clients answered while there was room for one: the second confirmation finds the
    /// table full and is dropped (counted); the confirmed session is never pushed out.
    @Test func aConfirmationPastTheSessionLimitIsDroppedAndTheConfirmedSessionStays() {
        var pair = Pair {
            $0.maxSessions = 1
            $0.reservedForRelays = 0
        }
        let otherAddress = try! SocketAddress(host: "10.0.0.10", port: 5000)
        var other = LinkManager(configuration: .client, now: pair.now, rng: &pair.rng)
        _ = pair.send(Self.frame)
        var initiation: [Datagram] = []
        other.send(Self.frame, to: pair.relayPeer, now: pair.now, rng: &pair.rng, out: &initiation)
        var response: [Datagram] = []
        for datagram in initiation {
            _ = pair.relay.receive(datagram.bytes, from: otherAddress, now: pair.now, rng: &pair.rng, out: &response)
        }
        #expect(response.count == 1, "answered while the table had room")
        pair.exchange()
        #expect(pair.relayFrames.count == 1, "the first client confirmed and its frame arrived")

        var confirmation: [Datagram] = []
        for datagram in response {
            _ = other.receive(datagram.bytes, from: pair.relayPeer.address, now: pair.now, rng: &pair.rng, out: &confirmation)
        }
        #expect(!confirmation.isEmpty)
        var answers: [Datagram] = []
        for datagram in confirmation {
            let delivered = pair.relay.receive(datagram.bytes, from: otherAddress, now: pair.now, rng: &pair.rng, out: &answers)
            #expect(delivered?.session == nil, "no room: the confirmation and its frame are dropped")
        }
        #expect(pair.relay.counters.sessionLimit == 1)
        #expect(pair.send(Self.frame) == .sent)
        pair.exchange()
        #expect(pair.relayFrames.count == 2, "the confirmed session still carries frames")
    }

    @Test func aResetMakesANewLinkForTheNextFrame() {
        var pair = Pair()
        _ = pair.send(Self.frame)
        pair.exchange()
        pair.client.reset(pair.relayPeer.id)
        #expect(pair.send(Self.frame) == .queued)
        pair.exchange()
        #expect(pair.relay.counters.handshakes == 2)
        #expect(pair.relayFrames.count == 2)
    }

    @Test func anOperatorsPeerStaysAsGivenWhateverTheDirectorySays() throws {
        var pair = Pair()
        pair.client.addPeer(pair.relayPeer, persistent: true)
        var moved = pair.relayPeer
        moved.address = try SocketAddress(host: "10.9.9.9", port: 1)
        pair.client.setPeers([moved])
        #expect(pair.client.peer(pair.relayPeer.id) == pair.relayPeer)
        pair.client.setPeers([])
        #expect(pair.client.peer(pair.relayPeer.id) == pair.relayPeer, "and is not removed with the directory's")
    }

    @Test func afterAResetAnswersOnTheOldSessionStillOpen() {
        var pair = Pair()
        _ = pair.send(Self.frame)
        pair.exchange()
        let frames = pair.relayFrames.count
        // The relay answers on the session it knows; the client reset its link in between.
        var out: [Datagram] = []
        let index = pair.relay.sessionCount == 1 ? pair.relayFramesSession : nil
        pair.client.reset(pair.relayPeer.id)
        if let index { pair.relay.reply([UInt8](repeating: 5, count: 64), on: index, now: pair.now, rng: &pair.rng, out: &out) }
        var delivered: LinkDelivery?
        for datagram in out {
            var ignored: [Datagram] = []
            delivered = pair.client.receive(datagram.bytes, from: pair.relayPeer.address, now: pair.now, rng: &pair.rng, out: &ignored)
        }
        #expect(delivered?.frame.first == 5)
        #expect(pair.relayFrames.count == frames)
    }

    @Test func randomDatagramsAreCountedNeverTrap() {
        var pair = Pair()
        var out: [Datagram] = []
        for _ in 0..<2_000 {
            let bytes = pair.rng.bytes(Int.random(in: 0...1_300, using: &pair.rng))
            _ = pair.relay.receive(bytes, from: pair.clientAddress, now: pair.now, rng: &pair.rng, out: &out)
            _ = pair.client.receive(bytes, from: pair.relayPeer.address, now: pair.now, rng: &pair.rng, out: &out)
        }
        #expect(out.isEmpty)
        let dropped = pair.relay.counters.dropped.values.reduce(0, +) + pair.client.counters.dropped.values.reduce(0, +)
        #expect(dropped == 4_000)
    }
}
