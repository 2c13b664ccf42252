import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
public import SecIRCNode

/// Makes the HTTP exchanges engines ask for (``FetchRequest``) off the loop's thread and calls
/// back with the answer — always exactly once, with no status on failure or time-out.
public protocol HTTPFetching: Sendable {
    func fetch(_ request: FetchRequest, completion: @escaping @Sendable (FetchResponse) -> Void)
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
