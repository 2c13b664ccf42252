import Foundation
import SecIRCCrypto
@testable import SecIRCHTTP
import Testing

/// Bearer-token routes and the 0600 token file.
@Suite("Bearer auth")
struct AuthTests {
    static let secret = "test-token-0123456789abcdef0123456789"

    static func makeRouter() -> HTTPRouter {
        let router = HTTPRouter()
        router.get("/v1/admin/status", auth: .bearer(testToken(secret))) { _ in .text("secret status") }
        router.get("/v1/public") { _ in .text("public") }
        return router
    }

    @Test("401 JSON with WWW-Authenticate for a missing, wrong or malformed token", arguments: [
        nil, "", "Bearer", "Bearer ", "Bearer wrong", "Basic \(secret)", "Token \(secret)", "\(secret)",
        "Bearer \(secret)x", "Bearer \(secret.dropLast())", "Bearer  \(secret.uppercased())", "Bearer\t\(secret)",
        "Bearerx \(secret)",
    ] as [String?])
    func rejected(authorization: String?) {
        var headers: [String: String] = [:]
        if let authorization { headers["Authorization"] = authorization }
        let response = Self.makeRouter().handle(request(.get, "/v1/admin/status", headers: headers))
        #expect(response.status == 401)
        #expect(response.header("WWW-Authenticate") == "Bearer")
        #expect(text(response) == #"{"error":{"code":"unauthorized","message":"missing or invalid bearer token"}}"#)
    }

    @Test("the right token passes, scheme in any case", arguments: [
        "Bearer \(secret)", "bearer \(secret)", "BEARER \(secret)", "Bearer   \(secret)  ",
    ])
    func accepted(authorization: String) {
        let response = Self.makeRouter().handle(request(.get, "/v1/admin/status", headers: ["authorization": authorization]))
        #expect(response.status == 200)
        #expect(text(response) == "secret status")
    }

    @Test("routes without auth ignore the header")
    func publicRoute() {
        #expect(Self.makeRouter().handle(request(.get, "/v1/public", headers: ["Authorization": "Bearer nope"])).status == 200)
    }

    @Test("the token never prints")
    func redacted() {
        #expect(!"\(testToken(Self.secret))".contains("test-token"))
    }

    @Test("loadOrCreate: 64 hex characters in a 0600 file, the same token on the next start")
    func tokenFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/admin.token"
        let created = try HTTPBearerToken.loadOrCreate(path: path)
        #expect(try KeyFile.permissions(of: path) == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.count == 64)
        #expect(text.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(created.verify(authorization: "Bearer \(text)"))
        let loaded = try HTTPBearerToken.loadOrCreate(path: path)
        #expect(loaded.verify(authorization: "Bearer \(text)"))
        #expect(!loaded.verify(authorization: "Bearer \(String(text.reversed()))"))
    }

    @Test("loadOrCreate ignores an editor's newline, refuses open permissions and short tokens")
    func tokenFileChecks() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/edited.token"
        let token = String(repeating: "ab", count: 20)
        try KeyFile.write(text: token + "\n", to: path)
        #expect(try HTTPBearerToken.loadOrCreate(path: path).verify(authorization: "Bearer \(token)"))

        let open = directory.path + "/open.token"
        _ = FileManager.default.createFile(atPath: open, contents: Data(token.utf8), attributes: [.posixPermissions: 0o644])
        #expect { try HTTPBearerToken.loadOrCreate(path: open) } throws: { error in
            guard case let HTTPServerError.file(path, reason)? = error as? HTTPServerError else { return false }
            return path == open && reason.contains("chmod 600")
        }

        let short = directory.path + "/short.token"
        try KeyFile.write(text: "tooshort", to: short)
        #expect(throws: HTTPServerError.self) { try HTTPBearerToken.loadOrCreate(path: short) }
    }

    @Test("auth over a live server")
    func live() throws {
        let server = try startServer(Self.makeRouter())
        defer { server.stop() }
        #expect(try rawRequest(port: server.boundPort, "GET", "/v1/admin/status").status == 401)
        let ok = try rawRequest(port: server.boundPort, "GET", "/v1/admin/status", headers: ["Authorization": "Bearer \(Self.secret)"])
        #expect(ok.status == 200)
        // Two Authorization headers are joined, and so refused.
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("GET /v1/admin/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.secret)\r\nAuthorization: Bearer x\r\n\r\n")
        #expect(try connection.readResponse().status == 401)
    }
}
