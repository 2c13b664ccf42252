@testable import SecIRCRuntime
import SecIRCNode
import Testing

/// Which exchanges the daemons' fetcher makes itself (plain http to a numeric address) and
/// which it leaves to URLSession.
@Suite struct HTTPFetcherTests {
    @Test(arguments: [
        ("http://127.0.0.1:6691/v1/directory", "http://127.0.0.1:6691", "/v1/directory"),
        ("http://10.0.0.7/v1/relays?flag=guard&limit=3", "http://10.0.0.7:80", "/v1/relays?flag=guard&limit=3"),
        ("http://[::1]:6691/v1/descriptors", "http://[::1]:6691", "/v1/descriptors"),
        ("http://127.0.0.1:6691", "http://127.0.0.1:6691", "/"),
    ])
    func direct(url: String, base: String, path: String) throws {
        let target = try #require(HTTPFetcher.directTarget(url))
        #expect(target.base == base)
        #expect(target.path == path)
    }

    @Test(arguments: ["https://127.0.0.1:6691/v1/directory", "http://relay.example.org/v1/directory", "ftp://127.0.0.1/x",
                      "http://user@127.0.0.1/v1/directory", "not a url", ""])
    func leftToURLSession(url: String) {
        #expect(HTTPFetcher.directTarget(url) == nil)
    }

    @Test func anExchangeThatCannotBeMadeDirectlyHasNoStatus() {
        let response = HTTPFetcher.exchange(FetchRequest(id: 7, method: .get, url: "https://127.0.0.1:1/v1/directory"))
        #expect(response.id == 7)
        #expect(response.status == nil)
    }
}
