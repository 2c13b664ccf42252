import Foundation
@testable import SecIRCHTTP
import SecIRCCrypto

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-http-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A request for router tests.
func request(_ method: HTTPMethod, _ path: String, headers: [String: String] = [:], body: String = "") -> HTTPRequest {
    HTTPRequest(method: method, path: path, headers: headers, body: Array(body.utf8))
}

/// The body as text.
func text(_ response: HTTPResponse) -> String {
    String(decoding: response.bodyBytes, as: UTF8.self)
}

/// A token for tests.
func testToken(_ text: String = "test-token-0123456789abcdef0123456789") -> HTTPBearerToken {
    HTTPBearerToken(SecureBytes(Array(text.utf8)))
}

/// Starts a server on 127.0.0.1:0 with `router`; the caller stops it.
func startServer(_ router: HTTPRouter, maxBodyBytes: Int = 65536, tls: HTTPTLS? = nil,
                 metrics: (@Sendable (Int) -> Void)? = nil) throws -> HTTPServer {
    let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, maxBodyBytes: maxBodyBytes, tls: tls),
                            router: router, metrics: metrics)
    try server.start()
    return server
}

/// Awaits a condition we cannot be notified of (the server's count of its connections) with a
/// deadline, checking every few milliseconds; false when the deadline passed first.
func awaitCondition(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        usleep(5_000)
    }
    return try condition()
}
