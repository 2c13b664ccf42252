import Foundation
public import SecIRCNode

/// Makes the HTTP exchanges engines ask for (``FetchRequest``) off the loop's thread and calls
/// back with the answer — always exactly once, with no status on failure or time-out.
public protocol HTTPFetching: Sendable {
    func fetch(_ request: FetchRequest, completion: @escaping @Sendable (FetchResponse) -> Void)
}

/// The daemons' ``HTTPFetching``: every `http://` and `https://` exchange through libcurl's easy
/// interface (``CurlExchange``: pinned keys, bounded size and time, no redirects, no proxies),
/// and `dns:NAME` through the system resolver library (``TXTLookup``), each on a short thread of
/// its own that ends with the exchange.
///
/// Why a thread per exchange, not URLSession or libdispatch: on Linux, FoundationNetworking's
/// URLSession (libcurl's multi interface under libdispatch) leaves a timer behind after its first
/// exchange that wakes a thread every second for the rest of the process, and so does any work on
/// libdispatch's global queues — most of an idle client's wake-ups (docs/BENCHMARKS.md, "An idle
/// client"). An easy handle on its own thread leaves nothing behind when it is cleaned up.
public struct HTTPFetcher: HTTPFetching {
    /// Where `dns:` lookups go (nil: the system's resolv.conf).
    public let dnsServer: TXTLookup.Server?

    public init(dnsServer: TXTLookup.Server? = nil) {
        self.dnsServer = dnsServer
    }

    public func fetch(_ request: FetchRequest, completion: @escaping @Sendable (FetchResponse) -> Void) {
        let server = dnsServer
        let thread = Thread { completion(Self.exchange(request, dnsServer: server)) }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The exchange made at once on the calling thread, which it blocks for at most the
    /// request's time-out.
    public static func exchange(_ request: FetchRequest, dnsServer: TXTLookup.Server? = nil) -> FetchResponse {
        if request.url.hasPrefix("dns:") {
            return TXTLookup.answer(request, server: dnsServer)
        }
        return CurlExchange.perform(request)
    }
}
