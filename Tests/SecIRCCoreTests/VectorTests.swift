import Foundation
import SecIRCCore
import SecIRCCrypto
import Testing

/// The checked-in vectors of `Vectors/`: regenerated from their seed and compared, and the
/// checked-in bytes processed as another implementation would process them.
@Suite struct VectorTests {
    struct SphinxVector: Codable, Equatable {
        struct Hop: Codable, Equatable {
            var onionPrivateKey: String
            var onionPublicKey: String
            var epoch: UInt32
            var relayID: String
            var action: UInt8
            var address: String
            var delayMilliseconds: UInt32
        }
        var seed: String
        var datagramSize: Int
        var maxHops: Int
        var hops: [Hop]
        var body: String
        var packet: String
        /// The packet after each hop's peel.
        var afterHop: [String]
    }

    static func makeSphinxVector() throws -> SphinxVector {
        let seed = "secirc sphinx vectors"
        var rng = SeededRandom(seed: seed)
        var hops: [SphinxVector.Hop] = []
        var path: [SphinxHop] = []
        var keys: [OnionKey] = []
        let mailbox = try Bytes32(rng.bytes(32))
        for i in 0..<3 {
            let secret = rng.bytes(32)
            let key = OnionKey(epoch: UInt32(100 + i), privateKey: try AgreementPrivateKey(bytes: secret))
            let id = try Bytes32(rng.bytes(32))
            keys.append(key)
            hops.append(.init(onionPrivateKey: Hex.encode(secret), onionPublicKey: key.publicKey.rawValue.hex, epoch: key.epoch,
                              relayID: id.hex, action: 0, address: "", delayMilliseconds: 0))
        }
        for i in 0..<3 {
            let command: RoutingCommand = i < 2
                ? .forward(to: try Bytes32(hex: hops[i + 1].relayID), delayMilliseconds: UInt32(10 * (i + 1)), nextEpoch: 0)
                : .deliver(to: mailbox)
            hops[i].action = command.action.rawValue
            hops[i].address = command.address.hex
            hops[i].delayMilliseconds = command.delayMilliseconds
            path.append(SphinxHop(onionKey: keys[i].publicKey, epoch: keys[i].epoch, command: command))
        }
        let body = Array("secIRC Sphinx test vector".utf8)
        var packet = try SphinxPacketBuilder().build(path: path, body: body, using: &rng)
        let original = packet
        var after: [String] = []
        for key in keys {
            var processor = SphinxProcessor(replayCapacity: 8)
            processor.install(key)
            _ = processor.peel(&packet)
            after.append(Hex.encode(packet))
        }
        return SphinxVector(seed: seed, datagramSize: 1232, maxHops: 5, hops: hops, body: Hex.encode(body),
                            packet: Hex.encode(original), afterHop: after)
    }

    @Test func sphinxVectorRegeneratesAndPeels() throws {
        let (vector, generated) = try VectorFile.check("sphinx.json", Self.makeSphinxVector())
        #expect(vector == generated)

        // Peel the checked-in packet with the checked-in keys, as an independent implementation would.
        var packet = try Hex.decode(vector.packet)
        #expect(packet.count == PacketGeometry.standard.sphinxPacketLength)
        for (i, hop) in vector.hops.enumerated() {
            var processor = SphinxProcessor(replayCapacity: 8)
            processor.install(OnionKey(epoch: hop.epoch, privateKey: try AgreementPrivateKey(bytes: Hex.decode(hop.onionPrivateKey))))
            let result = processor.peel(&packet)
            let address = try Bytes32(hex: hop.address)
            #expect(result == (hop.action == RoutingAction.forward.rawValue
                ? .forward(relay: address, delayMilliseconds: hop.delayMilliseconds) : .deliver(mailbox: address)))
            #expect(Hex.encode(packet) == vector.afterHop[i])
        }
        let body = try Hex.decode(vector.body)
        #expect(Array(SphinxProcessor().body(ofDelivered: packet).prefix(body.count)) == body)
    }

    struct DirectoryVector: Codable, Equatable {
        var seed: String
        var roster: Roster
        /// The signed directory envelope exactly as served.
        var document: String
        var now: Int64
        var bodySHA256: String
    }

    static func makeDirectoryVector() throws -> DirectoryVector {
        var fixture = DirectoryFixture(ringSize: 3, relayCount: 2, seed: "secirc directory vectors")
        let directory = try fixture.directory()
        let document = fixture.sign(directory, by: [0, 2])
        return DirectoryVector(seed: "secirc directory vectors", roster: fixture.roster,
                               document: String(decoding: document.jsonBytes(), as: UTF8.self), now: 1_500,
                               bodySHA256: document.bodyHash.hex)
    }

    @Test func directoryVectorRegeneratesAndVerifies() throws {
        let (vector, generated) = try VectorFile.check("directory.json", Self.makeDirectoryVector())
        #expect(vector == generated)
        let unverified = try Unverified<RelayDirectory>(json: Array(vector.document.utf8))
        #expect(unverified.document.bodyHash.hex == vector.bodySHA256)
        let directory = try unverified.verified(trusting: vector.roster, now: vector.now)
        #expect(directory.relays.count == 2)
        #expect(try directory.descriptors().count == 2)
    }
}
