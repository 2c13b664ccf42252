import SecIRCCore
import SecIRCCrypto
import Testing

/// Reassembly room per sender (issue 17, consent): strangers' partial transfers cannot evict a
/// contact's half-received message.
@Suite("Messaging: Reassembler rooms")
struct MessagingReassemblerRoomTests {
    static let now = MessagingFixture.now
    static let alice = ID(rawValue: Bytes32(filling: { $0.initializeMemory(as: UInt8.self, repeating: 0xA1) }))

    static func fragments(_ length: Int, seed: String) throws -> (message: [UInt8], fragments: [Fragment]) {
        let message = MessagingFixture.bytes(length, seed: seed)
        return (message, try SealedPacket.fragments(of: message, transferID: MessagingFixture.messageID(seed)))
    }

    @Test func aStrangersFloodDoesNotEvictAContactsHalfReceivedMessage() throws {
        var reassembler = Reassembler(maxTransfers: 8, maxBytes: 1 << 20)
        let (message, fragments) = try Self.fragments(2000, seed: "alice's")
        #expect(try reassembler.add(fragments[0], room: .contact(Self.alice), now: Self.now) == nil)
        #expect(try reassembler.add(fragments[1], now: Self.now) == nil, "later fragments follow their transfer's room")
        // Many more partial transfers than the shared room holds, and bigger in bytes too.
        for i in 0..<100 {
            let (_, flood) = try Self.fragments(3000, seed: "stranger \(i)")
            #expect(try reassembler.add(flood[0], now: Self.now.adding(.seconds(1))) == nil)
        }
        #expect(reassembler.pendingTransfers(in: .shared) == 8)
        #expect(reassembler.evictedTransfers == 92, "the strangers evicted each other")
        #expect(reassembler.pendingTransfers(in: .contact(Self.alice)) == 1)
        #expect(try reassembler.add(fragments[2], now: Self.now.adding(.seconds(2))) == message)
    }

    @Test func aTransferMovesToItsContactsRoomWhenItsFirstFragmentComes() throws {
        var reassembler = Reassembler(maxTransfers: 2, maxBytes: 1 << 20)
        let (message, fragments) = try Self.fragments(2000, seed: "late first")
        #expect(try reassembler.add(fragments[2], now: Self.now) == nil)
        #expect(reassembler.pendingTransfers(in: .shared) == 1)
        #expect(try reassembler.add(fragments[0], room: .contact(Self.alice), now: Self.now) == nil)
        #expect(reassembler.pendingTransfers(in: .shared) == 0 && reassembler.pendingTransfers(in: .contact(Self.alice)) == 1)
        for i in 0..<10 {
            let (_, flood) = try Self.fragments(3000, seed: "flood \(i)")
            _ = try reassembler.add(flood[1], now: Self.now)
        }
        #expect(try reassembler.add(fragments[1], now: Self.now) == message)
        #expect(reassembler.bufferedBytes == 2 * 715, "two of the flood's fragments, in the shared room")
    }

    @Test func aContactsRoomIsBoundedOnItsOwn() throws {
        var reassembler = Reassembler(maxTransfersPerContact: 2)
        let bob = ID(rawValue: Bytes32(filling: { $0.initializeMemory(as: UInt8.self, repeating: 0xB0) }))
        let (_, bobs) = try Self.fragments(2000, seed: "bob's")
        #expect(try reassembler.add(bobs[0], room: .contact(bob), now: Self.now) == nil)
        for i in 0..<3 {
            let (_, own) = try Self.fragments(2000, seed: "alice \(i)")
            _ = try reassembler.add(own[0], room: .contact(Self.alice), now: Self.now.adding(.seconds(Int64(i))))
        }
        #expect(reassembler.pendingTransfers(in: .contact(Self.alice)) == 2, "alice's oldest went")
        #expect(reassembler.pendingTransfers(in: .contact(bob)) == 1, "bob's stayed")
        #expect(reassembler.evictedTransfers == 1)
    }

    @Test func allContactRoomsTogetherAreBounded() throws {
        var reassembler = Reassembler(maxContactBytes: 3 * 715)
        for i in 0..<4 {
            let contact = ID(rawValue: Bytes32(filling: { $0.initializeMemory(as: UInt8.self, repeating: UInt8(i)) }))
            let (_, own) = try Self.fragments(2000, seed: "contact \(i)")
            _ = try reassembler.add(own[0], room: .contact(contact), now: Self.now.adding(.seconds(Int64(i))))
        }
        #expect(reassembler.bufferedBytes <= 3 * 715)
        #expect(reassembler.evictedTransfers == 1)
    }

    @Test func aFirstFragmentNamesItsClaimedSender() throws {
        var rng = SeededRandom(seed: "claimed")
        let key = SigningPrivateKey(using: &rng).publicKey
        let prefix = [SessionMessage.currentVersion, SessionMessage.ratchetType] + [UInt8](repeating: 7, count: 16) + key.rawValue.bytes + [1, 2, 3]
        #expect(SessionMessage.claimedSender(prefix: prefix) == key)
        #expect(SessionMessage.claimedSender(prefix: Array(prefix.prefix(49))) == nil)
        #expect(SessionMessage.claimedSender(prefix: [9] + prefix.dropFirst()) == nil)
    }
}
