import SecIRCCore
import SecIRCCrypto
@testable import SecIRCNode
import Testing

/// Where the tracker fetches from: configured URLs (an https one may pin the server's key),
/// `dns:` names whose TXT records list more, and which channel brought the directory held.
@Suite struct DirectorySourcesTests {
    static let pin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

    /// The request `tracker` makes at `now`, which must be one.
    static func due(_ tracker: inout DirectoryTracker, _ now: UnixTime, _ id: UInt64) throws -> FetchRequest {
        let request = tracker.fetchIfDue(now: now, id: id)
        return try #require(request)
    }

    /// A DNS response carrying `records` as TXT answers (no question section).
    static func txtAnswer(_ records: [String]) -> [UInt8] {
        var m: [UInt8] = [0, 1, 0x81, 0x80, 0, 0, 0, UInt8(records.count), 0, 0, 0, 0]
        for record in records {
            let bytes = Array(record.utf8)
            m += [0, 0, 16, 0, 1, 0, 0, 0, 60, 0, UInt8(bytes.count + 1), UInt8(bytes.count)] + bytes
        }
        return m
    }

    @Test func aPinnedSourceKeepsItsPinAfterThePathAndNamesItsChannel() throws {
        var ring = DirectoryChainTests.Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: ["https://127.0.0.1:6691/#spki=\(Self.pin)"])
        let request = try Self.due(&tracker, ring.now, 1)
        #expect(request.url == "https://127.0.0.1:6691/v1/directory#spki=\(Self.pin)")
        let outcome = tracker.received(FetchResponse(id: 1, status: 200, body: ring.sign().jsonBytes()), now: ring.now)
        #expect(outcome == .installed)
        #expect(tracker.held?.channel == .httpsPinned)
        #expect(tracker.held?.installedAt == ring.now)
    }

    @Test(arguments: [
        ("http://127.0.0.1:6691", DirectoryTracker.Channel.http),
        ("https://relay.example", .https),
        ("https://relay.example/#spki=\(pin)", .httpsPinned),
    ])
    func channels(source: String, channel: DirectoryTracker.Channel) throws {
        var ring = DirectoryChainTests.Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: [source])
        _ = try Self.due(&tracker, ring.now, 1)
        #expect(tracker.received(FetchResponse(id: 1, status: 200, body: ring.sign().jsonBytes()), now: ring.now) == .installed)
        #expect(tracker.held?.channel == channel)
    }

    @Test func aWrongPinIsRefusedAsAnUntrustedServerAndTheNextSourceIsTried() throws {
        let ring = DirectoryChainTests.Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: ["https://127.0.0.1:1/#spki=\(Self.pin)", "http://127.0.0.1:2"])
        _ = try Self.due(&tracker, ring.now, 1)
        let outcome = tracker.received(FetchResponse(id: 1, status: nil, failure: .pinMismatch("public key does not match")), now: ring.now)
        #expect(outcome == .refused(.untrustedServer(source: "https://127.0.0.1:1/", .pinMismatch("public key does not match"))))
        if case let .refused(refusal) = outcome {
            #expect("\(refusal)".contains("does not match the URL's spki pin"))
            #expect(!"\(refusal)".contains(Self.pin))
        }
        let next = try Self.due(&tracker, ring.now, 2)
        #expect(next.url == "http://127.0.0.1:2/v1/directory")
        // A plain transport failure stays "unreachable".
        #expect(tracker.received(FetchResponse(id: 2, status: nil, failure: .transport("refused")), now: ring.now)
            == .refused(.unreachable(status: nil)))
    }

    @Test func dnsIsLookedUpAtStartAndItsURLsAreFetchedAsChannelDNS() throws {
        var ring = DirectoryChainTests.Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: ["dns:_secirc.example.org"])
        let lookup = try Self.due(&tracker, ring.now, 1)
        #expect(lookup.url == "dns:_secirc.example.org")
        let none = tracker.fetchIfDue(now: ring.now, id: 2)
        #expect(none == nil) // nothing to fetch yet
        let records = ["v=spf1 -all", "https://10.0.0.1:6691/#spki=\(Self.pin)", "ftp://10.0.0.2/", "http://10.0.0.3:6691"]
        #expect(tracker.received(FetchResponse(id: 1, status: 200, body: Self.txtAnswer(records)), now: ring.now) == .unchanged)
        #expect(tracker.discovered == ["https://10.0.0.1:6691/#spki=\(Self.pin)", "http://10.0.0.3:6691"])
        let fetch = try Self.due(&tracker, ring.now, 3)
        #expect(fetch.url == "https://10.0.0.1:6691/v1/directory#spki=\(Self.pin)")
        #expect(tracker.received(FetchResponse(id: 3, status: 200, body: ring.sign().jsonBytes()), now: ring.now) == .installed)
        #expect(tracker.held?.channel == .dns)
    }

    @Test func configuredSourcesGoAlongsideTheLookupAndALookupFollowsAFailedRound() throws {
        let ring = DirectoryChainTests.Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: ["http://127.0.0.1:2", "dns:seed.example"])
        tracker.lookupInterval = .seconds(30)
        let lookup = try Self.due(&tracker, ring.now, 1)
        let fetch = try Self.due(&tracker, ring.now, 2)
        #expect(lookup.url == "dns:seed.example" && fetch.url == "http://127.0.0.1:2/v1/directory")
        // The lookup fails: refused with its reason; the fetch fails too: a round failed.
        let failed = tracker.received(FetchResponse(id: 1, status: nil, failure: .transport("no such name")), now: ring.now)
        guard case .refused(.lookupFailed(name: "seed.example", _)) = failed else { Issue.record("\(failed)"); return }
        #expect(tracker.received(FetchResponse(id: 2, status: nil), now: ring.now) == .refused(.unreachable(status: nil)))
        // The next lookup waits for lookupInterval; fetches go on every retryInterval meanwhile.
        let soon = ring.now.adding(.seconds(1))
        let retry = try Self.due(&tracker, soon, 3)
        #expect(retry.url.hasPrefix("http://"))
        let notYet = tracker.fetchIfDue(now: soon, id: 4)
        #expect(notYet == nil)
        _ = tracker.received(FetchResponse(id: 3, status: nil), now: soon)
        let later = ring.now.adding(.seconds(30))
        let again = try Self.due(&tracker, later, 5)
        #expect(again.url == "dns:seed.example")
    }

    @Test func lookupAnswersAreBounded() throws {
        let ring = DirectoryChainTests.Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: ["dns:seed.example"])
        _ = try Self.due(&tracker, ring.now, 1)
        let many = (1...30).map { "http://10.0.0.\($0):6691" } + ["http://10.0.0.1:6691"]
        _ = tracker.received(FetchResponse(id: 1, status: 200, body: Self.txtAnswer(many)), now: ring.now)
        #expect(tracker.discovered.count == DirectoryTracker.maximumDiscovered)
        // Garbage, truncated, and no usable record: refused, nothing discovered changes.
        let bodies = [[UInt8](repeating: 0xFF, count: 40), Array(Self.txtAnswer(["http://10.9.9.9"]).dropLast(3)), Self.txtAnswer(["nope"])]
        for (round, body) in bodies.enumerated() {
            let now = ring.now.adding(.seconds(3600 * (round + 1)))
            tracker.sources = ["dns:seed.example", "http://127.0.0.1:9"]
            // Make a lookup due: fail a round.
            while let request = tracker.fetchIfDue(now: now, id: 100), !request.url.hasPrefix("dns:") {
                _ = tracker.received(FetchResponse(id: 100, status: nil), now: now)
            }
            let outcome = tracker.received(FetchResponse(id: 100, status: 200, body: body), now: now)
            guard case .refused(.lookupFailed) = outcome else { Issue.record("\(outcome)"); return }
            #expect(tracker.discovered.count == DirectoryTracker.maximumDiscovered)
        }
    }
}
