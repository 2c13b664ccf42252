import SecIRCCore
import SecIRCCrypto
import Testing

@Suite("Messaging: Reassembler")
struct MessagingReassemblerTests {
    static let now = MessagingFixture.now

    static func fragments(_ length: Int, seed: String) throws -> (message: [UInt8], fragments: [Fragment]) {
        let message = MessagingFixture.bytes(length, seed: seed)
        return (message, try SealedPacket.fragments(of: message, transferID: MessagingFixture.messageID(seed)))
    }

    static let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]

    @Test(arguments: orders)
    func reassemblesInAnyOrder(_ order: [Int]) throws {
        let (message, fragments) = try Self.fragments(2000, seed: "any order")
        #expect(fragments.count == 3)
        var reassembler = Reassembler()
        for (step, index) in order.enumerated() {
            let result = try reassembler.add(fragments[index], now: Self.now)
            if step < 2 {
                #expect(result == nil)
                #expect(reassembler.pendingTransfers == 1)
            } else {
                #expect(result == message)
            }
        }
        #expect(reassembler.pendingTransfers == 0)
        #expect(reassembler.bufferedBytes == 0)
    }

    @Test func singleFragmentMessagesAreReturnedAtOnce() throws {
        var reassembler = Reassembler()
        for length in [0, 1, 715] {
            let (message, fragments) = try Self.fragments(length, seed: "single \(length)")
            #expect(try reassembler.add(fragments[0], now: Self.now) == message)
        }
        #expect(reassembler.pendingTransfers == 0)
    }

    @Test func duplicatesAreIgnored() throws {
        let (message, fragments) = try Self.fragments(2000, seed: "duplicates")
        var reassembler = Reassembler()
        #expect(try reassembler.add(fragments[1], now: Self.now) == nil)
        #expect(try reassembler.add(fragments[1], now: Self.now) == nil)
        #expect(reassembler.bufferedBytes == 715)
        #expect(try reassembler.add(fragments[0], now: Self.now) == nil)
        #expect(try reassembler.add(fragments[1], now: Self.now) == nil)
        #expect(try reassembler.add(fragments[2], now: Self.now) == message)
        // Finished transfers are forgotten: a late duplicate starts a new one (dedup is by message ID above).
        #expect(try reassembler.add(fragments[0], now: Self.now) == nil)
        #expect(reassembler.pendingTransfers == 1)
    }

    /// Fragment 1 of a 3-fragment, 2000-byte transfer, changed to disagree with it in one way.
    static func corrupted(_ f: Fragment, _ how: String) -> Fragment {
        switch how {
        case "count": Fragment(transferID: f.transferID, index: 0, count: 4, totalLength: f.totalLength, data: f.data)
        case "total length": Fragment(transferID: f.transferID, index: 2, count: 3, totalLength: f.totalLength + 1, data: f.data)
        case "same index, other data": Fragment(transferID: f.transferID, index: 1, count: 3, totalLength: f.totalLength,
                                                data: f.data.map { $0 ^ 1 })
        default: Fragment(transferID: f.transferID, index: 0, count: 3, totalLength: f.totalLength,
                          data: [UInt8](repeating: 0, count: 1300))
        }
    }

    @Test(arguments: ["count", "total length", "same index, other data", "more bytes than the total"])
    func inconsistentFragmentsDropTheTransfer(_ how: String) throws {
        let (_, fragments) = try Self.fragments(2000, seed: "inconsistent")
        var reassembler = Reassembler()
        #expect(try reassembler.add(fragments[1], now: Self.now) == nil)
        let id = fragments[1].transferID
        #expect(throws: SealedPacketError.inconsistentTransfer(id), "\(how)") {
            try reassembler.add(Self.corrupted(fragments[1], how), now: Self.now)
        }
        #expect(reassembler.pendingTransfers == 0)
        #expect(reassembler.bufferedBytes == 0)
    }

    @Test func lengthsThatDoNotAddUpAreRefusedOnCompletion() throws {
        let id = MessagingFixture.messageID("short parts")
        var reassembler = Reassembler()
        #expect(try reassembler.add(Fragment(transferID: id, index: 0, count: 2, totalLength: 10, data: [1, 2]), now: Self.now) == nil)
        #expect(throws: SealedPacketError.inconsistentTransfer(id)) {
            try reassembler.add(Fragment(transferID: id, index: 1, count: 2, totalLength: 10, data: [3]), now: Self.now)
        }
        #expect(throws: SealedPacketError.inconsistentTransfer(id)) {
            try reassembler.add(Fragment(transferID: id, index: 0, count: 1, totalLength: 10, data: [3]), now: Self.now)
        }
        #expect(reassembler.pendingTransfers == 0)
    }

    @Test func invalidFragmentsAreRefused() {
        let id = MessagingFixture.messageID("invalid")
        var reassembler = Reassembler(maxBytes: 1000)
        let bad = [
            Fragment(transferID: id, index: 0, count: 0, totalLength: 0, data: []),
            Fragment(transferID: id, index: 0, count: 129, totalLength: 10, data: []),
            Fragment(transferID: id, index: 2, count: 2, totalLength: 10, data: []),
            Fragment(transferID: id, index: -1, count: 2, totalLength: 10, data: []),
            Fragment(transferID: id, index: 0, count: 2, totalLength: -1, data: []),
            Fragment(transferID: id, index: 0, count: 2, totalLength: 1, data: [1, 2]),
        ]
        for fragment in bad {
            #expect(throws: SealedPacketError.self) { try reassembler.add(fragment, now: Self.now) }
        }
        #expect(throws: SealedPacketError.tooLarge(length: 1001, maximum: 1000)) {
            try reassembler.add(Fragment(transferID: id, index: 0, count: 2, totalLength: 1001, data: []), now: Self.now)
        }
        #expect(reassembler.pendingTransfers == 0)
    }

    @Test func transferBoundEvictsTheOldest() throws {
        var reassembler = Reassembler(maxTransfers: 2)
        let transfers = try (0..<3).map { try Self.fragments(2000, seed: "bound \($0)") }
        // Started at 30, 10, 20 seconds: transfer 1 is the oldest.
        for (i, start) in [30, 10, 20].enumerated() {
            #expect(try reassembler.add(transfers[i].fragments[0], now: Self.now.adding(.seconds(start))) == nil)
        }
        #expect(reassembler.pendingTransfers == 2)
        #expect(reassembler.evictedTransfers == 1)
        // Transfers 0 and 2 are still whole; 1 was dropped and starts over.
        #expect(try reassembler.add(transfers[0].fragments[1], now: Self.now) == nil)
        #expect(try reassembler.add(transfers[0].fragments[2], now: Self.now) == transfers[0].message)
        #expect(try reassembler.add(transfers[1].fragments[1], now: Self.now) == nil)
        #expect(try reassembler.add(transfers[1].fragments[2], now: Self.now) == nil)
        #expect(reassembler.pendingTransfers == 2)
    }

    @Test func byteBoundEvictsTheOldest() throws {
        var reassembler = Reassembler(maxBytes: 2000)
        let a = try Self.fragments(2000, seed: "bytes a")
        let b = try Self.fragments(2000, seed: "bytes b")
        #expect(try reassembler.add(a.fragments[0], now: Self.now) == nil)
        #expect(try reassembler.add(a.fragments[1], now: Self.now) == nil)
        #expect(reassembler.bufferedBytes == 1430)
        #expect(try reassembler.add(b.fragments[0], now: Self.now.adding(.seconds(1))) == nil)
        #expect(reassembler.evictedTransfers == 1)
        #expect(reassembler.pendingTransfers == 1)
        #expect(reassembler.bufferedBytes == 715)
        // The newest transfer keeps growing up to the bound and completes.
        #expect(try reassembler.add(b.fragments[1], now: Self.now) == nil)
        #expect(try reassembler.add(b.fragments[2], now: Self.now) == b.message)
        #expect(reassembler.bufferedBytes == 0)
    }

    @Test func unfinishedTransfersExpire() throws {
        var reassembler = Reassembler(timeout: .seconds(10))
        let a = try Self.fragments(2000, seed: "expire a")
        let b = try Self.fragments(2000, seed: "expire b")
        #expect(try reassembler.add(a.fragments[0], now: Self.now) == nil)
        #expect(try reassembler.add(b.fragments[0], now: Self.now.adding(.seconds(5))) == nil)
        #expect(reassembler.expire(now: Self.now.adding(.milliseconds(9_999))) == 0)
        #expect(reassembler.expire(now: Self.now.adding(.seconds(10))) == 1)
        #expect(reassembler.pendingTransfers == 1)
        #expect(reassembler.bufferedBytes == 715)
        #expect(reassembler.expire(now: Self.now.adding(.seconds(60))) == 1)
        #expect(reassembler.pendingTransfers == 0)
        #expect(reassembler.bufferedBytes == 0)
    }
}
