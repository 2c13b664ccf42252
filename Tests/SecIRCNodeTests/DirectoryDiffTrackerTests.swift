import SecIRCCore
import SecIRCCrypto
@testable import SecIRCNode
import Testing

/// The tracker asks for a diff when it holds a directory, verifies the rebuilt one exactly like
/// a full one, and asks for the full one at once when a diff fails.
@Suite struct DirectoryDiffTrackerTests {
    static let source = "http://127.0.0.1:6691"

    /// A tracker holding the ring's first directory, and the ring's second.
    static func holding() throws -> (DirectoryTracker, DirectoryChainTests.Ring, first: SignedDocument, second: SignedDocument) {
        var ring = DirectoryChainTests.Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: [source])
        let first = ring.sign()
        _ = try DirectorySourcesTests.due(&tracker, ring.now, 1)
        #expect(tracker.received(FetchResponse(id: 1, status: 200, body: first.jsonBytes()), now: ring.now) == .installed)
        let second = ring.sign()
        return (tracker, ring, first, second)
    }

    static func diff(_ from: SignedDocument, _ to: SignedDocument) throws -> DirectoryDiff {
        let base = try DocumentDecoding.directory(from), target = try DocumentDecoding.directory(to)
        return try #require(DirectoryDiff.make(from: from, base, to: to, target))
    }

    static func diffAnswer(id: UInt64, _ body: [UInt8]) -> FetchResponse {
        FetchResponse(id: id, status: 200, headers: ["content-type": DirectoryTracker.diffContentType], body: body)
    }

    @Test func aHeldDirectoryIsUpdatedByADiffAndVerifiedLikeAFullOne() throws {
        var (tracker, ring, first, second) = try Self.holding()
        tracker.fetchSoon(now: ring.now)
        let request = try DirectorySourcesTests.due(&tracker, ring.now, 2)
        #expect(request.url == "\(Self.source)/v1/directory?since=1")
        #expect(request.headers["If-None-Match"] == "\"\(first.bodyHash.hex)\"")
        let body = try Self.diff(first, second).jsonBytes()
        #expect(tracker.received(Self.diffAnswer(id: 2, body), now: ring.now) == .installed)
        #expect(tracker.held?.document == second)
        #expect(tracker.held?.directory.serial == 2)
        #expect(tracker.held?.channel == .http)
        // The next fetch asks for a diff from the new serial, after the usual refresh wait.
        #expect(tracker.fetchIfDue(now: ring.now, id: 3) == nil)
        tracker.fetchSoon(now: ring.now)
        #expect(try DirectorySourcesTests.due(&tracker, ring.now, 3).url == "\(Self.source)/v1/directory?since=2")
    }

    static func brokenDiffs(_ first: SignedDocument, _ second: SignedDocument, roster: Roster) throws -> [(String, [UInt8])] {
        let diff = try diff(first, second)
        var hash = diff
        hash.bodyHash = .zero
        var forged = diff
        var rng = SeededRandom(seed: "outsider")
        let outsider = SigningPrivateKey(using: &rng)
        forged.signatures = [SignedDocument.Entry(key: roster.members[0].identityKey, sig: outsider.sign([1, 2, 3]))]
        var base = diff
        base.baseSerial = 9
        var range = diff
        range.relays = [.keep(from: 0, count: 1_000)]
        return [
            ("body hash", hash.jsonBytes()), ("forged signature", forged.jsonBytes()), ("other base", base.jsonBytes()),
            ("range", range.jsonBytes()), ("truncated", Array(diff.jsonBytes().dropLast(9))), ("garbage", [0x7b, 0xff, 0x00]),
            ("full document labelled a diff", second.jsonBytes()),
        ]
    }

    @Test func aFailedDiffIsRefusedAndTheFullDirectoryIsFetchedAtOnceFromTheSameSource() throws {
        let (start, startRing, first, second) = try Self.holding()
        for (name, body) in try Self.brokenDiffs(first, second, roster: startRing.roster) {
            var tracker = start, ring = startRing
            tracker.fetchSoon(now: ring.now)
            _ = try DirectorySourcesTests.due(&tracker, ring.now, 2)
            let outcome = tracker.received(Self.diffAnswer(id: 2, body), now: ring.now)
            guard case .refused(.invalid) = outcome else {
                Issue.record("\(name): \(outcome)")
                continue
            }
            #expect(tracker.held?.document == first, "\(name)")
            let full = try DirectorySourcesTests.due(&tracker, ring.now, 3)
            #expect(full.url == "\(Self.source)/v1/directory", "\(name)")
            #expect(tracker.received(FetchResponse(id: 3, status: 200, body: second.jsonBytes()), now: ring.now) == .installed)
            // Diffs again after the full one came.
            ring.now = ring.now.adding(.seconds(1))
            tracker.fetchSoon(now: ring.now)
            #expect(try DirectorySourcesTests.due(&tracker, ring.now, 4).url.hasSuffix("?since=2"), "\(name)")
        }
    }

    /// A diff that skips directories (from serial 1 to 5) is followed through `earlier`, and a
    /// 304 to a diff request leaves the held one.
    @Test func aDiffAcrossSeveralSerialsAndA304() throws {
        var (tracker, ring, first, _) = try Self.holding()
        var latest = first
        for _ in 0..<3 { latest = ring.sign() }
        tracker.fetchSoon(now: ring.now)
        _ = try DirectorySourcesTests.due(&tracker, ring.now, 2)
        #expect(tracker.received(Self.diffAnswer(id: 2, try Self.diff(first, latest).jsonBytes()), now: ring.now) == .installed)
        #expect(tracker.held?.directory.serial == 5)
        tracker.fetchSoon(now: ring.now)
        _ = try DirectorySourcesTests.due(&tracker, ring.now, 3)
        #expect(tracker.received(FetchResponse(id: 3, status: 304), now: ring.now) == .unchanged)
        #expect(tracker.held?.directory.serial == 5)
    }

    @Test func randomDiffBodiesAreRefusedWithoutTrapping() throws {
        let (start, startRing, _, _) = try Self.holding()
        var rng = SeededRandom(seed: "random diffs")
        for size in [0, 2, 64, 1_000, 20_000] {
            var tracker = start
            tracker.fetchSoon(now: startRing.now)
            _ = try DirectorySourcesTests.due(&tracker, startRing.now, 2)
            let outcome = tracker.received(Self.diffAnswer(id: 2, rng.bytes(size)), now: startRing.now)
            guard case .refused(.invalid) = outcome else {
                Issue.record("\(size) bytes: \(outcome)")
                continue
            }
        }
    }
}

/// Reads a signed directory's body without verifying (the tests' own documents).
enum DocumentDecoding {
    static func directory(_ document: SignedDocument) throws -> RelayDirectory {
        try Unverified<RelayDirectory>(document).verifiedAtAnyTime(trusting: rosterOf(document)).directory
    }

    /// A roster of the document's signers, all needed.
    static func rosterOf(_ document: SignedDocument) -> Roster {
        Roster(members: document.signatures.map { Roster.Member(identityKey: $0.key, udp: "127.0.0.1:1", http: "http://127.0.0.1:2") })
    }
}
