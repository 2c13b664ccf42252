import Foundation
import SecIRCCrypto
@testable import SecIRCHTTP
import Testing

/// HTTPS: certificate files, a live TLS server checked with curl, and rejected key material.
@Suite("TLS", .serialized)
struct TLSTests {
    static let curl = "/usr/bin/curl"

    @Test("loadOrCreateSelfSigned writes tls.crt and a 0600 tls.key once, then loads them")
    func selfSignedFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (tls, fingerprint) = try HTTPTLS.loadOrCreateSelfSigned(directory: directory.path, commonName: "relay-test")
        #expect(fingerprint.count == 64)
        #expect(tls.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect("\(tls.privateKeyPEM)" == "<redacted>")
        #expect(try KeyFile.permissions(of: directory.path + "/tls.key") == 0o600)
        let (again, sameFingerprint) = try HTTPTLS.loadOrCreateSelfSigned(directory: directory.path, commonName: "other")
        #expect(sameFingerprint == fingerprint)
        #expect(again.certificatePEM == tls.certificatePEM)
        let (loaded, loadedFingerprint) = try HTTPTLS.load(certificateFile: directory.path + "/tls.crt",
                                                           keyFile: directory.path + "/tls.key")
        #expect(loadedFingerprint == fingerprint)
        #expect(loaded.privateKeyPEM.value == tls.privateKeyPEM.value)
    }

    @Test("a lone certificate or a readable key is refused")
    func refusals() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try HTTPTLS.loadOrCreateSelfSigned(directory: directory.path, commonName: "relay-test")
        try FileManager.default.removeItem(atPath: directory.path + "/tls.key")
        #expect(throws: HTTPServerError.self) {
            try HTTPTLS.loadOrCreateSelfSigned(directory: directory.path, commonName: "relay-test")
        }
        let certificate = SelfSignedCertificate.self
        let made = try certificate.generate(commonName: "x")
        let keyPath = directory.path + "/open.key"
        _ = FileManager.default.createFile(atPath: keyPath, contents: Data(made.privateKeyPEM.value.utf8),
                                       attributes: [.posixPermissions: 0o644])
        #expect(throws: HTTPServerError.self) {
            try HTTPTLS.load(certificateFile: directory.path + "/tls.crt", keyFile: keyPath)
        }
    }

    @Test("garbage key material: start fails with tlsRejected and the port is released")
    func rejected() throws {
        let tls = HTTPTLS(certificatePEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                          privateKeyPEM: Redacted("not a key"))
        let server = HTTPServer(configuration: HTTPServerConfiguration(tls: tls), router: HTTPRouter())
        #expect { try server.start() } throws: { error in
            guard case .tlsRejected? = error as? HTTPServerError else { return false }
            return true
        }
        #expect(server.boundPort == 0)
    }

    @Test("HTTPS with a self-signed certificate (curl -k)", .enabled(if: FileManager.default.isExecutableFile(atPath: curl)))
    func https() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (tls, _) = try HTTPTLS.loadOrCreateSelfSigned(directory: directory.path, commonName: "relay-test")
        let router = HTTPRouter()
        router.get("/v1/greeting") { _ in .json(["hello": "tls"]) }
        router.post("/v1/size") { request in .text("\(request.body.count)") }
        let server = try startServer(router, tls: tls)
        defer { server.stop() }
        let base = "https://127.0.0.1:\(server.boundPort)"

        let get = try Self.run([Self.curl, "-sk", "--max-time", "10", "-w", " %{http_code}", base + "/v1/greeting"])
        #expect(get == #"{"hello":"tls"} 200"#)
        let post = try Self.run([Self.curl, "-sk", "--max-time", "10", "-w", " %{http_code}", "--data-binary",
                                 String(repeating: "b", count: 5000), base + "/v1/size"])
        #expect(post == "5000 200")
        let missing = try Self.run([Self.curl, "-sk", "--max-time", "10", "-w", " %{http_code}", base + "/nope"])
        #expect(missing == #"{"error":{"code":"not_found","message":"no route for GET /nope"}} 404"#)

        // Plain HTTP and garbage on the TLS port: refused, and the server keeps serving.
        let plain = try RawHTTPConnection(port: server.boundPort, timeout: 2)
        try plain.send("GET /v1/greeting HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try? plain.receiveAll()
        #expect(try Self.run([Self.curl, "-sk", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                              base + "/v1/greeting"]) == "200")
    }

    /// Runs a program; returns its standard output.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
