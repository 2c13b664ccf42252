import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SecIRCAPI
public import SecIRCNode

/// Makes the HTTP exchanges engines ask for (``FetchRequest``) off the loop's thread and calls
/// back with the answer — always exactly once, with no status on failure or time-out.
public protocol HTTPFetching: Sendable {
    func fetch(_ request: FetchRequest, completion: @escaping @Sendable (FetchResponse) -> Void)
}

/// The daemons' ``HTTPFetching``: plain `http://` to a numeric address — how descriptors,
/// bootstrap lists and devnets name relays — through the project's own blocking HTTP client
/// (`APIClient`: one connection per exchange, on a thread of its own while it lasts);
/// anything else (https, host names) through URLSession (``URLSessionFetcher``).
///
/// Why not URLSession for everything: on Linux, FoundationNetworking's URLSession (libcurl under
/// libdispatch) leaves a timer behind after its first exchange that wakes a libdispatch thread
/// every second for the rest of the process — most of an idle client's wake-ups that were not
/// its own (docs/BENCHMARKS.md, "An idle client"). The direct exchange leaves nothing behind.
public struct HTTPFetcher: HTTPFetching {
    private let fallback = URLSessionFetcher()

    public init() {}

    public func fetch(_ request: FetchRequest, completion: @escaping @Sendable (FetchResponse) -> Void) {
        guard Self.directTarget(request.url) != nil else { return fallback.fetch(request, completion: completion) }
        // A thread of its own, not the global queue: any work on libdispatch's global queues
        // starts its worker-pool monitor, which then wakes the process every second for good.
        Thread { completion(Self.exchange(request)) }.start()
    }

    /// The exchange made at once on the calling thread (which it blocks, for at most the
    /// request's time-out on each of connecting, writing and reading), through `APIClient`; for
    /// plain `http://` to a numeric address only (else an answer with no status).
    public static func exchange(_ request: FetchRequest) -> FetchResponse {
        guard let (base, path) = directTarget(request.url) else { return FetchResponse(id: request.id, status: nil) }
        let (seconds, attoseconds) = request.timeout.components
        var contentType = "application/octet-stream"
        var headers: [(String, String)] = []
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            if name.lowercased() == "content-type" { contentType = value } else { headers.append((name, value)) }
        }
        guard let client = try? APIClient(baseURL: base, timeout: max(0.001, Double(seconds) + Double(attoseconds) / 1e18)),
              let response = try? client.send(request.method.rawValue, path, body: request.body, contentType: contentType,
                                              accept: "*/*", headers: headers),
              response.body.count <= FetchRequest.maximumResponseBytes
        else { return FetchResponse(id: request.id, status: nil) }
        return FetchResponse(id: request.id, status: response.status, headers: response.head.headers, body: response.body)
    }

    /// `http://ADDRESS[:port]/path?query` with a numeric address: the base URL and the path
    /// (with its query) for `APIClient`; nil for anything else.
    static func directTarget(_ url: String) -> (base: String, path: String)? {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "http",
              var host = components.host, !host.isEmpty, components.user == nil
        else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr(), v6 = in6_addr()
        let numeric = inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
        guard numeric else { return nil }
        let authority = host.contains(":") ? "[\(host)]" : host
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        let query = components.percentEncodedQuery.map { "?" + $0 } ?? ""
        return ("http://\(authority):\(components.port ?? 80)", path + query)
    }
}

/// ``HTTPFetching`` over URLSession (http, and https with certificates the system trusts).
/// Bodies longer than ``FetchRequest/maximumResponseBytes`` are answered as failures.
public struct URLSessionFetcher: HTTPFetching {
    public init() {}

    public func fetch(_ request: FetchRequest, completion: @escaping @Sendable (FetchResponse) -> Void) {
        guard let url = URL(string: request.url), ["http", "https"].contains(url.scheme ?? "") else {
            return completion(FetchResponse(id: request.id, status: nil))
        }
        let (seconds, attoseconds) = request.timeout.components
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData,
                                    timeoutInterval: Double(seconds) + Double(attoseconds) / 1e18)
        urlRequest.httpMethod = request.method.rawValue
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if let body = request.body { urlRequest.httpBody = Data(body) }
        URLSession.shared.dataTask(with: urlRequest) { data, response, _ in
            guard let http = response as? HTTPURLResponse else { return completion(FetchResponse(id: request.id, status: nil)) }
            let body = data ?? Data()
            guard body.count <= FetchRequest.maximumResponseBytes else { return completion(FetchResponse(id: request.id, status: nil)) }
            var headers: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
            }
            completion(FetchResponse(id: request.id, status: http.statusCode, headers: headers, body: Array(body)))
        }.resume()
    }
}
