import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCNode
import SecIRCRelay
import SecIRCRuntime
import Testing

/// `GET /v1/directory?since=SERIAL`: a diff from a directory the relay still keeps, else the
/// full one; over libmicrohttpd and libcurl, the tracker rebuilds and installs it.
@Suite struct DirectoryDiffRouteTests {
    /// Signs `count` successive directories (one more relay each time) and installs each into
    /// the fixture's state, as the relay's loop does.
    static func publish(_ f: RoutesFixture, count: Int) throws -> [SignedDocument] {
        var rng = SeededRandom(seed: "diff route")
        var authority = DirectoryAuthority(identity: f.ring, roster: f.state.trustedRoster,
                                           network: NetworkParameters(coverRate: 2, meanDelayMs: 50), period: .seconds(60))
        try authority.setOwn(f.descriptor(f.ring, port: 6690, rng: &rng))
        for i in 0..<3 {
            let id = try authority.accept(f.descriptor(SigningPrivateKey(using: &rng), port: 7000 + 10 * i, rng: &rng), now: RoutesFixture.now).id
            authority.admit(id, now: RoutesFixture.now)
        }
        var published: [SignedDocument] = []
        for i in 0..<count {
            let id = try authority.accept(f.descriptor(SigningPrivateKey(using: &rng), port: 8000 + 10 * i, rng: &rng), now: RoutesFixture.now).id
            authority.admit(id, now: RoutesFixture.now)
            let (document, directory) = authority.sign(now: RoutesFixture.now)
            f.state.install(document: document, directory: directory, descriptors: try directory.descriptors())
            published.append(document)
        }
        return published
    }

    @Test func sinceAnswersADiffOverRealHTTPThatTheTrackerRebuildsAndVerifies() throws {
        let f = try RoutesFixture()
        let published = try Self.publish(f, count: 2)
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), router: f.router)
        try server.start()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.boundPort)"
        var tracker = DirectoryTracker(roster: f.state.trustedRoster, sources: [base])
        try tracker.install(published[0], now: RoutesFixture.now)
        let due = tracker.fetchIfDue(now: RoutesFixture.now, id: 1)
        let request = try #require(due)
        #expect(request.url == "\(base)/v1/directory?since=1")
        let response = HTTPFetcher.exchange(request)
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == DirectoryTracker.diffContentType)
        #expect(response.headers["etag"] == "\"\(published[1].bodyHash.hex)\"")
        let full = try #require(f.state.directory).json
        #expect(response.body.count < full.count / 2, "diff \(response.body.count) bytes, full \(full.count)")
        #expect(tracker.received(response, now: RoutesFixture.now) == .installed)
        #expect(tracker.held?.document == published[1])
        #expect(tracker.held?.channel == .http)
        // Held now: the same request is a 304.
        tracker.fetchSoon(now: RoutesFixture.now)
        let dueAgain = tracker.fetchIfDue(now: RoutesFixture.now, id: 2)
        let again = try #require(dueAgain)
        #expect(again.url == "\(base)/v1/directory?since=2")
        #expect(HTTPFetcher.exchange(again).status == 304)
    }

    @Test func anUnknownOrTooOldSerialGetsTheFullDirectory() throws {
        let f = try RoutesFixture()
        let published = try Self.publish(f, count: RelayState.maximumRecent + 2)
        let served = try #require(f.state.directory)
        for since in ["0", "1", "\(published.count)", "\(published.count + 5)"] {
            let response = f.handle(.get, "/v1/directory", query: ["since": since])
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json", "since=\(since)")
            #expect(response.bytes == served.json)
        }
        // The oldest kept is `maximumRecent` back.
        let kept = f.handle(.get, "/v1/directory", query: ["since": "\(published.count - RelayState.maximumRecent)"])
        #expect(kept.header("Content-Type") == DirectoryTracker.diffContentType)
        let rebuilt = try DirectoryDiff.decode(json: kept.bytes)
        #expect(rebuilt.baseSerial == UInt64(published.count - RelayState.maximumRecent))
    }

    @Test(arguments: ["", "-1", "+1", "01", "1.0", "abc", "18446744073709551616"])
    func aMalformedSinceIsA400(since: String) throws {
        let f = try RoutesFixture()
        _ = try Self.publish(f, count: 2)
        let response = f.handle(.get, "/v1/directory", query: ["since": since])
        #expect(response.status == 400 && response.errorCode == "invalid_parameter")
    }
}
