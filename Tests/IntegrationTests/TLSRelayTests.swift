import Foundation
import Testing

/// A relay with `tls: self_signed` makes its key and certificate on first start, serves HTTPS,
/// and shows the certificate's fingerprint in `/v1/relay`.
@Suite struct TLSRelayTests {
    static let curl = "/usr/bin/curl"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: TLSRelayTests.curl)))
    func selfSignedHTTPSWithPinnedFingerprint() async throws {
        let root = try Processes.temporaryDirectory()
        let relay = try RelayProcess(name: "tls", root: root, firstRing: nil, extraServerYAML: "")
        defer {
            relay.terminate()
            try? FileManager.default.removeItem(atPath: root)
        }
        // Same configuration, HTTPS on.
        let config = try String(contentsOfFile: relay.directory + "/server.yaml", encoding: .utf8)
            .replacingOccurrences(of: "http: {listen: \"127.0.0.1:\(relay.httpPort)\"}",
                                  with: "http: {listen: \"127.0.0.1:\(relay.httpPort)\", tls: self_signed}")
        try config.write(toFile: relay.directory + "/server.yaml", atomically: true, encoding: .utf8)
        try relay.start()

        func curl(_ path: String) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.curl)
            process.arguments = ["-sk", "--max-time", "5", "https://127.0.0.1:\(relay.httpPort)\(path)"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        try await eventually("HTTPS ready") { try curl("/readyz").contains("ready") }
        let info = try JSONSerialization.jsonObject(with: Data(try curl("/v1/relay").utf8)) as? [String: Any]
        let fingerprint = try #require(info?["tls_fingerprint"] as? String)
        #expect(fingerprint.count == 64)

        let certificate = try #require(FileManager.default.subpaths(atPath: relay.directory + "/data")?.first { $0.hasSuffix(".crt") })
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["x509", "-noout", "-fingerprint", "-sha256", "-in", relay.directory + "/data/" + certificate]
        let pipe = Pipe()
        openssl.standardOutput = pipe
        try openssl.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        openssl.waitUntilExit()
        let expected = text.split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "").lowercased() }?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(fingerprint == expected)
        let keyFile = try #require(FileManager.default.subpaths(atPath: relay.directory + "/data")?.first { $0.hasSuffix(".key") && $0.hasPrefix("tls") })
        let mode = try FileManager.default.attributesOfItem(atPath: relay.directory + "/data/" + keyFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
