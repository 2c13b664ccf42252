internal import CResolv
import Glibc
import SecIRCNode

/// A `dns:NAME` ``FetchRequest`` answered through the system resolver library (glibc's
/// `res_nquery` on a private resolver state): the TXT records of NAME as the whole DNS response
/// message (status 200), for ``DNSTXTAnswer`` in the engine; no status and a
/// ``FetchFailure/transport(_:)`` reason when the lookup fails. The only importer of `CResolv`.
///
/// Normally the name servers of /etc/resolv.conf are asked; `server` (`dns_server` in the
/// configuration, IPv4 only) sends the query to that one alone — how the tests reach the DNS
/// server they start on 127.0.0.1. Called on a fetcher thread: it blocks for at most the
/// request's time-out (rounded up to whole seconds per try, two tries).
public enum TXTLookup {
    /// A name server to ask instead of resolv.conf's.
    public struct Server: Sendable, Equatable, CustomStringConvertible {
        public let host: String
        public let port: UInt16
        private let address: UInt32

        /// `host` must be a dotted IPv4 address (glibc's resolver state holds IPv4 addresses
        /// for servers set in code); nil otherwise.
        public init?(host: String, port: UInt16) {
            var v4 = in_addr()
            guard port > 0, inet_pton(AF_INET, host, &v4) == 1 else { return nil }
            self.host = host
            self.port = port
            address = v4.s_addr
        }

        public var description: String { "\(host):\(port)" }

        var sockaddrIn: sockaddr_in {
            var out = sockaddr_in()
            out.sin_family = sa_family_t(AF_INET)
            out.sin_port = port.bigEndian
            out.sin_addr.s_addr = address
            return out
        }
    }

    /// Longest answer read (a UDP answer is at most 512 bytes without EDNS; TCP, at most this).
    static let answerCapacity = 16 << 10

    static func answer(_ request: FetchRequest, server: Server?) -> FetchResponse {
        func failed(_ text: String) -> FetchResponse {
            FetchResponse(id: request.id, status: nil, failure: .transport("DNS TXT \(name): \(text)"))
        }
        let name = String(request.url.dropFirst("dns:".count))
        guard !name.isEmpty, name.utf8.count <= 253, !name.contains("\0") else { return failed("not a DNS name") }
        let (seconds, _) = request.timeout.components
        let tries: Int32 = 2
        let perTry = Int32(clamping: max(1, (seconds + 1) / Int64(tries)))
        var answer = [UInt8](repeating: 0, count: answerCapacity)
        var error: Int32 = 0
        let length: Int32
        if let server {
            var address = server.sockaddrIn
            length = secirc_res_query_txt(name, &address, perTry, tries, &answer, Int32(answer.count), &error)
        } else {
            length = secirc_res_query_txt(name, nil, perTry, tries, &answer, Int32(answer.count), &error)
        }
        guard length > 0 else { return failed(Self.describe(error)) }
        return FetchResponse(id: request.id, status: 200, body: Array(answer.prefix(Int(min(length, Int32(answer.count))))))
    }

    private static func describe(_ error: Int32) -> String {
        switch error {
        case HOST_NOT_FOUND: "no such name"
        case NO_DATA: "no TXT record"
        case TRY_AGAIN: "no answer from the name server (try again)"
        default: "resolver error \(error)"
        }
    }
}
