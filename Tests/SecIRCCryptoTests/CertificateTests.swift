import Foundation
import SecIRCCrypto
import Testing

/// Self-signed TLS certificates made with OpenSSL, and their SHA-256 fingerprints.
@Suite("Self-signed certificates")
struct CertificateTests {
    static let opensslPath = "/usr/bin/openssl"

    /// Runs `openssl` with `arguments`, feeding `input` on stdin; returns stdout.
    static func openssl(_ arguments: [String], input: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opensslPath)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "openssl \(arguments.joined(separator: " ")) failed")
        return String(decoding: output, as: UTF8.self)
    }

    static func isLowercaseHex(_ text: String) -> Bool {
        text.allSatisfy { "0123456789abcdef".contains($0) }
    }

    @Test("generate: PEM headers, 64-hex fingerprint equal to fingerprint(ofPEM:)")
    func generate() throws {
        let certificate = try SelfSignedCertificate.generate(commonName: "secirc-test")
        let pem = certificate.certificatePEM
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        #expect(pem.contains("-----END CERTIFICATE-----"))
        let key = certificate.privateKeyPEM.value
        #expect(key.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(key.contains("-----END PRIVATE KEY-----"))
        #expect(!pem.contains("PRIVATE KEY"))

        #expect(certificate.fingerprint.count == 64)
        #expect(Self.isLowercaseHex(certificate.fingerprint))
        #expect(try SelfSignedCertificate.fingerprint(ofPEM: pem) == certificate.fingerprint)
        // Text after the certificate does not change its fingerprint.
        #expect(try SelfSignedCertificate.fingerprint(ofPEM: pem + "\ntrailing text\n") == certificate.fingerprint)
    }

    @Test("the private key PEM is redacted in descriptions")
    func privateKeyRedacted() throws {
        let certificate = try SelfSignedCertificate.generate(commonName: "secirc-test")
        #expect("\(certificate.privateKeyPEM)" == "<redacted>")
        #expect(!String(describing: certificate).contains("BEGIN PRIVATE KEY"))
        #expect(!String(reflecting: certificate).contains("BEGIN PRIVATE KEY"))
    }

    @Test("two certificates have different keys and fingerprints")
    func distinct() throws {
        let a = try SelfSignedCertificate.generate(commonName: "secirc-test")
        let b = try SelfSignedCertificate.generate(commonName: "secirc-test")
        #expect(a.fingerprint != b.fingerprint)
        #expect(a.certificatePEM != b.certificatePEM)
        #expect(a.privateKeyPEM.value != b.privateKeyPEM.value)
    }

    @Test("the openssl command line computes the same fingerprint",
          .enabled(if: FileManager.default.isExecutableFile(atPath: CertificateTests.opensslPath)))
    func opensslFingerprint() throws {
        let certificate = try SelfSignedCertificate.generate(commonName: "secirc-test")
        let output = try Self.openssl(["x509", "-noout", "-fingerprint", "-sha256"], input: certificate.certificatePEM)
        // "sha256 Fingerprint=AB:CD:..." (the label's case depends on the OpenSSL version).
        let value = try #require(output.split(separator: "=", maxSplits: 1).last)
        let normalized = value.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased()
        #expect(normalized == certificate.fingerprint)
    }

    @Test("the certificate carries the common name, the default and extra subjectAltNames, and a P-256 key",
          .enabled(if: FileManager.default.isExecutableFile(atPath: CertificateTests.opensslPath)))
    func opensslContents() throws {
        let certificate = try SelfSignedCertificate.generate(commonName: "relay.secirc.test",
                                                            extraNames: ["DNS:relay.secirc.test", "IP:192.0.2.7"],
                                                            validDays: 30)
        let text = try Self.openssl(["x509", "-noout", "-text"], input: certificate.certificatePEM)
        #expect(text.contains("CN = relay.secirc.test") || text.contains("CN=relay.secirc.test"))
        #expect(text.contains("DNS:localhost"))
        #expect(text.contains("IP Address:127.0.0.1"))
        #expect(text.contains("DNS:relay.secirc.test"))
        #expect(text.contains("IP Address:192.0.2.7"))
        #expect(text.contains("prime256v1") || text.contains("P-256"))
        #expect(text.contains("ecdsa-with-SHA256"))

        let key = try Self.openssl(["pkey", "-noout", "-text"], input: certificate.privateKeyPEM.value)
        #expect(key.contains("prime256v1") || key.contains("P-256"))
    }

    @Test("a malformed subjectAltName throws an OpenSSL error")
    func badAltName() {
        let error = #expect(throws: CryptoError.self) {
            try SelfSignedCertificate.generate(commonName: "secirc-test", extraNames: ["NOTATYPE:foo"])
        }
        if case .openSSL = error {} else { Issue.record("expected openSSL, got \(String(describing: error))") }
    }

    @Test("garbage PEM throws invalidEncoding", arguments: [
        "",
        "garbage",
        String(repeating: "not a certificate at all ", count: 20),
        "-----BEGIN CERTIFICATE-----\n!!!!not base64!!!!\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nTUlJQm9n\n-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\nTUlJQm9n\n-----END PRIVATE KEY-----\n",
    ])
    func garbage(_ pem: String) {
        let error = #expect(throws: CryptoError.self) { try SelfSignedCertificate.fingerprint(ofPEM: pem) }
        if case .invalidEncoding = error {} else { Issue.record("expected invalidEncoding, got \(String(describing: error))") }
    }

    @Test("a truncated certificate PEM throws invalidEncoding")
    func truncated() throws {
        let pem = try SelfSignedCertificate.generate(commonName: "secirc-test").certificatePEM
        let cut = String(pem.prefix(pem.count / 2)) + "\n-----END CERTIFICATE-----\n"
        let error = #expect(throws: CryptoError.self) { try SelfSignedCertificate.fingerprint(ofPEM: cut) }
        if case .invalidEncoding = error {} else { Issue.record("expected invalidEncoding, got \(String(describing: error))") }
    }
}
