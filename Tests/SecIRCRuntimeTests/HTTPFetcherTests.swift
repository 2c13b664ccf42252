import Foundation
@testable import SecIRCRuntime
import SecIRCNode
import Testing

/// The daemons' fetcher (libcurl, libresolv) without a server: every failure is an answer with
/// no status and a reason, never a trap or a hang past the time-out.
@Suite struct HTTPFetcherTests {
    @Test(arguments: [
        "https://127.0.0.1:1/v1/directory", "http://127.0.0.1:1/v1/directory",
        "https://127.0.0.1:1/v1/directory#spki=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "https://127.0.0.1:1/v1/directory?since=41#spki=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    ])
    func nothingListeningIsATransportFailure(url: String) {
        let response = HTTPFetcher.exchange(FetchRequest(id: 7, method: .get, url: url, timeout: .seconds(2)))
        #expect(response.id == 7)
        #expect(response.status == nil)
        guard case .transport? = response.failure else {
            Issue.record("\(String(describing: response.failure))")
            return
        }
    }

    @Test(arguments: [
        "ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/", "not a url", "",
        "https://127.0.0.1:1/#spki=short", "http://127.0.0.1:1/#spki=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "https://127.0.0.1:1/#other", "http://127.0.0.1/\r\nX: y",
        "https://127.0.0.1:1/v1/directory?since=1 2#spki=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "https://127.0.0.1:1/v1/directory?a=%0d#spki=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "https://127.0.0.1:1/v1/directory?x#y?#spki=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    ])
    func otherSchemesAndMalformedURLsAreRefused(url: String) {
        let response = HTTPFetcher.exchange(FetchRequest(id: 3, method: .get, url: url, timeout: .seconds(2)))
        #expect(response.status == nil)
        #expect(response.failure != nil)
    }

    @Test func aHeaderWithALineBreakIsRefusedBeforeAnythingIsSent() {
        let request = FetchRequest(id: 1, method: .post, url: "http://127.0.0.1:1/v1/descriptors", headers: ["X": "a\r\nB: c"], body: [1])
        #expect(HTTPFetcher.exchange(request).failure == .transport("header with a line break"))
    }

    @Test func aLookupOfAMalformedNameFailsWithAReason() {
        for url in ["dns:", "dns:" + String(repeating: "a", count: 300)] {
            let response = HTTPFetcher.exchange(FetchRequest(id: 2, method: .get, url: url))
            #expect(response.status == nil)
            guard case .transport? = response.failure else {
                Issue.record("\(url)")
                return
            }
        }
    }

    @Test func aDNSServerMustBeIPv4() {
        #expect(TXTLookup.Server(host: "127.0.0.1", port: 53) != nil)
        #expect(TXTLookup.Server(host: "::1", port: 53) == nil)
        #expect(TXTLookup.Server(host: "localhost", port: 53) == nil)
        #expect(TXTLookup.Server(host: "127.0.0.1", port: 0) == nil)
    }

    /// The completion runs once, on a thread of its own.
    @Test func fetchAnswersOnce() async {
        let count = await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
            HTTPFetcher().fetch(FetchRequest(id: 5, method: .get, url: "http://127.0.0.1:1/", timeout: .seconds(2))) { response in
                continuation.resume(returning: response.id == 5 ? 1 : 0)
            }
        }
        #expect(count == 1)
    }
}
