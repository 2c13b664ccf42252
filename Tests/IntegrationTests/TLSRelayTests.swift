import Foundation
import Testing

/// A relay with `tls: self_signed` makes its key and certificate on first start, serves HTTPS,
/// and shows the certificate's fingerprint in `/v1/relay`.
@Suite struct TLSRelayTests {
    static let curl = "/usr/bin/curl"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: TLSRelayTests.curl)))
    func selfSignedHTTPSWithPinnedFingerprint() async throws {
        let network = try TestNetwork { $0.selfSignedTLS = true }
        defer { network.stop() }
        let relay = try network.devnet.startRelay("tls", trusting: nil)

        func curl(_ path: String) throws -> String {
            try Processes.run(executable: Self.curl, ["-sk", "--max-time", "5", "https://127.0.0.1:\(relay.httpPort)\(path)"]).stdout
        }
        try await eventually("HTTPS ready") { try curl("/readyz").contains("ready") }
        let info = try JSONSerialization.jsonObject(with: Data(try curl("/v1/relay").utf8)) as? [String: Any]
        let fingerprint = try #require(info?["tls_fingerprint"] as? String)
        #expect(fingerprint.count == 64)

        let certificate = try #require(FileManager.default.subpaths(atPath: relay.dataDirectory)?.first { $0.hasSuffix(".crt") })
        let text = try Processes.run(executable: "/usr/bin/openssl",
                                     ["x509", "-noout", "-fingerprint", "-sha256", "-in", relay.dataDirectory + "/" + certificate]).stdout
        let expected = text.split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "").lowercased() }?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(fingerprint == expected)
        let keyFile = try #require(FileManager.default.subpaths(atPath: relay.dataDirectory)?.first { $0.hasSuffix(".key") && $0.hasPrefix("tls") })
        let mode = try FileManager.default.attributesOfItem(atPath: relay.dataDirectory + "/" + keyFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
