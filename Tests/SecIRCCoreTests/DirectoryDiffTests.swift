import Foundation
import SecIRCCore
import SecIRCCrypto
import Testing

/// `GET /v1/directory?since=`: a diff rebuilds the exact signed body, or fails loudly.
@Suite struct DirectoryDiffTests {
    /// A base directory of 6 relays and the next one: relay 1 gone, relay 3 signed again
    /// (moved), a new relay 6 — all signed by 2 of 3 ring members.
    struct Pair {
        var fixture = DirectoryFixture(relayCount: 7)
        let base: SignedDocument, baseDirectory: RelayDirectory
        let target: SignedDocument, targetDirectory: RelayDirectory

        init() throws {
            var baseDirectory = try fixture.directory()
            baseDirectory.relays.removeLast() // relay 6 joins later
            base = fixture.sign(baseDirectory, by: [0, 1])
            self.baseDirectory = baseDirectory
            var next = baseDirectory
            next.serial = 2
            next.previous = base.bodyHash
            next.validAfter += 60
            next.relays.remove(at: 1)
            var moved = fixture.descriptor(fixture.relays[3], port: 9500)
            moved.published = 1_060
            next.relays[2] = try moved.signed(by: fixture.relays[3])
            next.relays.append(try fixture.descriptor(fixture.relays[6], port: 9600).signed(by: fixture.relays[6]))
            target = fixture.sign(next, by: [1, 2])
            targetDirectory = next
        }

        func diff() throws -> DirectoryDiff {
            try #require(DirectoryDiff.make(from: base, baseDirectory, to: target, targetDirectory))
        }
    }

    @Test func aDiffRebuildsTheExactSignedBytesWhichVerify() throws {
        let pair = try Pair()
        let diff = try pair.diff()
        #expect(diff.relays.count == 5) // keep [0,1], keep [2,1], add, keep [4,2], add
        #expect(diff.relays[0] == .keep(from: 0, count: 1) && diff.relays[3] == .keep(from: 4, count: 2))
        let decoded = try DirectoryDiff.decode(json: diff.jsonBytes())
        #expect(decoded == diff)
        let rebuilt = try decoded.apply(to: pair.base, pair.baseDirectory)
        #expect(rebuilt == pair.target)
        #expect(rebuilt.jsonBytes() == pair.target.jsonBytes())
        let verified = try Unverified<RelayDirectory>(rebuilt).verified(trusting: pair.fixture.roster, now: 1_100)
        #expect(verified == pair.targetDirectory)
        // Smaller than the full directory: only the two new descriptors travel.
        #expect(diff.jsonBytes().count < pair.target.jsonBytes().count)
    }

    @Test func anUnchangedRelayListIsOneRun() throws {
        let pair = try Pair()
        var next = pair.baseDirectory
        next.serial = 2
        next.previous = pair.base.bodyHash
        let target = pair.fixture.sign(next, by: [0, 2])
        let diff = try #require(DirectoryDiff.make(from: pair.base, pair.baseDirectory, to: target, next))
        #expect(diff.relays == [.keep(from: 0, count: 6)])
        #expect(try diff.apply(to: pair.base, pair.baseDirectory) == target)
    }

    @Test func aDiffForAnotherBaseIsRefused() throws {
        let pair = try Pair()
        let diff = try pair.diff()
        #expect(throws: DirectoryError.self) { try diff.apply(to: pair.target, pair.targetDirectory) }
        var otherSerial = diff
        otherSerial.baseSerial = 7
        #expect(throws: DirectoryError.self) { try otherSerial.apply(to: pair.base, pair.baseDirectory) }
    }

    @Test(arguments: [
        DirectoryDiff.Piece.keep(from: 5, count: 2), .keep(from: -1, count: 1), .keep(from: 0, count: 0),
        .keep(from: 0, count: Int.max), .keep(from: Int.max, count: 1),
    ])
    func aRunOutsideTheBaseIsRefused(piece: DirectoryDiff.Piece) throws {
        let pair = try Pair()
        var diff = try pair.diff()
        diff.relays[0] = piece
        #expect(throws: DirectoryError.self) { try diff.apply(to: pair.base, pair.baseDirectory) }
    }

    @Test func aChangedFieldOrPieceFailsTheBodyHash() throws {
        let pair = try Pair()
        let diff = try pair.diff()
        var header = diff
        header.directory.validUntil += 1
        #expect(throws: DirectoryError.malformed("the rebuilt directory's hash differs from body_hash")) {
            try header.apply(to: pair.base, pair.baseDirectory)
        }
        var swapped = diff
        swapped.relays.swapAt(0, 3)
        #expect(throws: DirectoryError.self) { try swapped.apply(to: pair.base, pair.baseDirectory) }
        var listed = diff
        listed.directory.relays = [pair.baseDirectory.relays[0]]
        #expect(throws: DirectoryError.self) { try listed.apply(to: pair.base, pair.baseDirectory) }
        // Signatures are not in the hash: a diff with forged ones rebuilds, and fails verification.
        var forged = diff
        forged.signatures = [SignedDocument.Entry(key: pair.fixture.ring[0].publicKey, sig: forged.signatures[0].sig)]
        let rebuilt = try forged.apply(to: pair.base, pair.baseDirectory)
        #expect(throws: DirectoryError.self) { try Unverified<RelayDirectory>(rebuilt).verified(trusting: pair.fixture.roster, now: 1_100) }
    }

    @Test(arguments: [
        #"{"keep":[0,1,2]}"#, #"{"keep":[0]}"#, #"{"keep":[0,1],"add":null}"#, #"{}"#, #"{"drop":[0,1]}"#, #"[0,1]"#,
        #"{"keep":"0,1"}"#, #"{"keep":[0.5,1]}"#,
    ])
    func malformedPiecesAreRefused(piece: String) throws {
        let pair = try Pair()
        let json = String(decoding: try pair.diff().jsonBytes(), as: UTF8.self)
        let broken = json.replacingOccurrences(of: #"{"keep":[0,1]}"#, with: piece)
        #expect(broken != json)
        #expect(throws: DirectoryError.self) { try DirectoryDiff.decode(json: Array(broken.utf8)) }
    }

    @Test func wrongTypeTooManyPiecesAndOversizedAreRefused() throws {
        let pair = try Pair()
        var diff = try pair.diff()
        diff.type = RelayDirectory.documentType
        #expect(throws: DirectoryError.wrongType(expected: DirectoryDiff.documentType, found: RelayDirectory.documentType)) {
            try DirectoryDiff.decode(json: diff.jsonBytes())
        }
        diff = try pair.diff()
        diff.relays = Array(repeating: .keep(from: 0, count: 1), count: RelayDirectory.maximumRelays + 1)
        #expect(throws: DirectoryError.malformed("too many pieces")) { try DirectoryDiff.decode(json: diff.jsonBytes()) }
        // Within the piece limit, a list that adds up to more relays than a directory holds.
        diff.relays = Array(repeating: .keep(from: 0, count: 6), count: RelayDirectory.maximumRelays / 6 + 1)
        #expect(throws: DirectoryError.malformed("diff lists more than \(RelayDirectory.maximumRelays) relays")) {
            try diff.apply(to: pair.base, pair.baseDirectory)
        }
        let oversized = Array(#"{"type":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: SignedDocument.maximumEncodedLength) + Array(#""}"#.utf8)
        #expect(throws: DirectoryError.malformed("larger than \(SignedDocument.maximumEncodedLength) bytes")) {
            try DirectoryDiff.decode(json: oversized)
        }
    }

    /// Every prefix, every single-byte change of a diff and random bytes: an error or (for a
    /// change the hash does not cover, e.g. in a signature) a document that fails to verify or
    /// is the target itself. Never a trap, never another directory.
    @Test func truncatedFlippedAndRandomDiffsNeverTrap() throws {
        let pair = try Pair()
        let json = try pair.diff().jsonBytes()
        for length in stride(from: 0, to: json.count, by: 7) {
            #expect(throws: (any Error).self) { try DirectoryDiff.decode(json: Array(json.prefix(length))) }
        }
        var rng = SeededRandom(seed: "diff flips")
        for _ in 0..<300 {
            var bytes = json
            bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            guard let diff = try? DirectoryDiff.decode(json: bytes), let rebuilt = try? diff.apply(to: pair.base, pair.baseDirectory),
                  let verified = try? Unverified<RelayDirectory>(rebuilt).verified(trusting: pair.fixture.roster, now: 1_100)
            else { continue }
            #expect(verified == pair.targetDirectory)
        }
        for size in [0, 1, 16, 300, 5_000] {
            #expect(throws: (any Error).self) { try DirectoryDiff.decode(json: rng.bytes(size)) }
        }
    }
}
