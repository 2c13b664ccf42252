import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport
import Testing

/// A relay whose peels run on worker threads (`peelWorkers` > 1): the engine hands out each
/// packet's crypto and checks the tags itself, so whichever worker opened a packet, its epoch
/// has one replay filter and one key ring.
@Suite struct RelayPeelWorkersTests {
    static func relay(_ wire: inout EngineWire, tune: (inout RelayEngine.Configuration) -> Void = { _ in }) -> SocketAddress {
        _ = wire.addRelay(1) { $0.peelWorkers = 2; tune(&$0) }
        return EngineWire.address(1)
    }

    /// The same packet from two source ports of one host (as the kernel could steer to two
    /// sockets) and from another host, opened in any order: delivered once, the rest replays.
    @Test func aReplayFromAnotherSourceIsRefusedWhicheverPeelRunsFirst() throws {
        for reversed in [false, true] {
            var wire = EngineWire()
            let relay = Self.relay(&wire)
            let first = wire.addClient(9), otherPort = wire.addClient(9, port: 5001), otherHost = wire.addClient(10)
            let packet = try RelayEngineTests.packet(for: wire.relays[relay]!, command: .deliver(to: Bytes32 { wire.rng.fill($0) }),
                                                     rng: &wire.rng)
            for client in [first, otherPort, otherHost] { wire.send(.sphinx(packet), from: client, to: relay) }
            #expect(wire.relays[relay]!.counters.delivered == 0, "nothing happens before the peels come back")
            #expect(wire.relays[relay]!.counters.peelsOut == 3)
            #expect(!wire.relays[relay]!.isIdle)
            wire.runPeels(at: relay, reversed: reversed)
            let c = wire.relays[relay]!.counters
            #expect(c.delivered == 1)
            #expect(c.sphinxRejects[.replay] == 2)
            #expect(c.peelsOut == 0)
            #expect(wire.relays[relay]!.isIdle)
        }
    }

    /// Two relays with workers: relay to relay links come up and a two-hop packet is delivered.
    @Test func packetsAreForwardedBetweenRelaysWithWorkers() throws {
        var wire = EngineWire()
        wire.runsPeels = true
        let ring = wire.addRelay(1) { $0.peelWorkers = 2 }
        _ = wire.addRelay(2, firstRing: ring) { $0.peelWorkers = 4 }
        wire.advance(by: .seconds(5))
        let one = EngineWire.address(1), two = EngineWire.address(2)
        let client = wire.addClient(9)
        let keys = [wire.relays[one]!.onionKeyEntries[0], wire.relays[two]!.onionKeyEntries[0]]
        let mailbox = Bytes32 { wire.rng.fill($0) }
        let packet = try SphinxPacketBuilder().build(path: [
            SphinxHop(onionKey: keys[0].key, epoch: keys[0].epoch,
                      command: .forward(to: wire.relays[two]!.relayID.rawValue, delayMilliseconds: 0, nextEpoch: keys[1].epoch)),
            SphinxHop(onionKey: keys[1].key, epoch: keys[1].epoch, command: .deliver(to: mailbox)),
        ], body: [7], using: &wire.rng)
        wire.send(.sphinx(packet), from: client, to: one)
        #expect(wire.relays[one]!.counters.forwarded == 1)
        #expect(wire.relays[two]!.counters.delivered == 1)
        #expect(wire.relays[two]!.counters.unclaimedDeposits == 1, "a mailbox no owner fetched yet: held unclaimed")
    }

    /// Keys rotate in the engine alone: after a rotation the jobs carry the new key; a peel
    /// opened with a key that was retired before it came back is refused (its filter is gone).
    @Test func rotationReachesEveryPeelAndARetiredEpochIsRefused() throws {
        var wire = EngineWire()
        let relay = Self.relay(&wire)
        let client = wire.addClient(9)
        let old = wire.relays[relay]!.onionKeyEntries[0].epoch
        let early = try RelayEngineTests.packet(for: wire.relays[relay]!, command: .drop, rng: &wire.rng)
        wire.send(.sphinx(early), from: client, to: relay)
        #expect(wire.command(.rotateKeys, at: relay) == .done)
        let new = wire.relays[relay]!.onionKeyEntries[0].epoch
        #expect(new == old &+ 1)
        let late = try RelayEngineTests.packet(for: wire.relays[relay]!, command: .drop, rng: &wire.rng)
        wire.send(.sphinx(late), from: client, to: relay)
        #expect(wire.peels[relay]?.map(\.key.epoch) == [old, new])
        wire.advance(by: .seconds(61)) // the grace window of the old key ends
        wire.runPeels(at: relay)
        let c = wire.relays[relay]!.counters
        #expect(c.coverDropped == 1)
        #expect(c.sphinxRejects[.unknownEpoch] == 1)
        wire.send(.sphinx(early), from: client, to: relay)
        #expect(wire.relays[relay]!.counters.sphinxRejects[.unknownEpoch] == 2, "refused before any crypto is handed out")
        #expect(wire.peels[relay] == nil)
    }

    /// Peels out are bounded: beyond the bound packets are dropped and counted.
    @Test func peelsOutAreBounded() throws {
        var wire = EngineWire()
        let relay = Self.relay(&wire) { $0.peelQueueCapacity = 2 }
        let client = wire.addClient(9)
        for _ in 0..<3 {
            wire.send(.sphinx(try RelayEngineTests.packet(for: wire.relays[relay]!, command: .drop, rng: &wire.rng)), from: client, to: relay)
        }
        #expect(wire.relays[relay]!.counters.relayDrops[.peelQueueFull] == 1)
        wire.runPeels(at: relay)
        #expect(wire.relays[relay]!.counters.coverDropped == 2)
    }
}
