internal import CMicroHTTPD
import SecIRCLock

/// libmicrohttpd responses for byte bodies that handlers return again and again (a cached
/// directory, a metrics snapshot): when a handler returns the *same array* (same storage) with
/// the same status and headers, the response made last time is queued again, with no copy and
/// no allocation, as libmicrohttpd's shared-response idiom does.
///
/// Sound because an entry keeps its array: the storage cannot be freed, reused or changed
/// (a mutation elsewhere copies first), so equal storage address means equal bytes.
final class ResponseCache: Sendable {
    /// Bodies outside this range are not cached (small ones cost little to copy and churn;
    /// large ones would be kept in memory).
    static let cacheableBytes = 1024...(256 * 1024)
    static let capacity = 4

    private struct Entry: @unchecked Sendable {
        // @unchecked: `response` is a libmicrohttpd response, which is reference-counted and
        // safe to queue from several threads; it is used only under `entries`' mutex and
        // destroyed once, when the entry is evicted or the cache emptied.
        let body: [UInt8]
        let status: Int
        let headers: [(String, String)]
        let response: OpaquePointer
    }

    private let entries = Locked<[Entry]>([])

    /// Queues the cached response for this body, status and headers; nil on a miss.
    func queue(_ body: [UInt8], status: Int, headers: [(String, String)], on connection: OpaquePointer) -> MHD_Result? {
        guard Self.cacheableBytes.contains(body.count) else { return nil }
        return entries.withLock { entries in
            guard let entry = entries.first(where: { Self.matches($0, body, status, headers) }) else { return nil }
            return MHD_queue_response(connection, UInt32(status), entry.response)
        }
    }

    /// Keeps `response` (which the caller has finished setting up) for reuse; false when the
    /// body is not cacheable, in which case the caller still owns the response.
    func insert(_ body: [UInt8], status: Int, headers: [(String, String)], response: OpaquePointer) -> Bool {
        guard Self.cacheableBytes.contains(body.count) else { return false }
        let evicted: Entry? = entries.withLock { entries in
            if entries.contains(where: { Self.matches($0, body, status, headers) }) { return nil }
            entries.append(Entry(body: body, status: status, headers: headers, response: response))
            return entries.count > Self.capacity ? entries.removeFirst() : nil
        }
        if let evicted { MHD_destroy_response(evicted.response) }
        return true
    }

    /// Releases every response (after the daemon stopped).
    func removeAll() {
        let all = entries.withLock { entries in
            defer { entries.removeAll() }
            return entries
        }
        for entry in all { MHD_destroy_response(entry.response) }
    }

    private static func matches(_ entry: Entry, _ body: [UInt8], _ status: Int, _ headers: [(String, String)]) -> Bool {
        guard entry.status == status, entry.body.count == body.count, entry.headers.count == headers.count else { return false }
        let sameStorage = entry.body.withUnsafeBufferPointer { a in body.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
        guard sameStorage else { return false }
        return zip(entry.headers, headers).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
