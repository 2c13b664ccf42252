import Foundation
import SecIRCCrypto
import Testing

/// Secret files: 0600 on write, refused on read when group or others may access them.
@Suite("Key files")
struct KeyFileTests {
    /// A fresh private directory for one test; the test removes it with `defer { directory.remove() }`.
    struct TemporaryDirectory {
        let url: URL
        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-keyfile-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
        }
        func path(_ name: String) -> String { url.appendingPathComponent(name).path }
        func remove() { try? FileManager.default.removeItem(at: url) }
    }

    static func setPermissions(_ mode: Int, of path: String) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    static func keyFileReason(_ error: CryptoError?) -> String? {
        if case let .keyFile(_, reason) = error { return reason }
        return nil
    }

    @Test("write then read round-trips, with mode 0600 and no temporary file left behind")
    func roundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("relay.key")
        let secret = seededSecret(32, seed: "key file")
        try KeyFile.write(secret, to: path)
        #expect(try KeyFile.permissions(of: path) == 0o600)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect((attributes[.size] as? NSNumber)?.intValue == 32)
        #expect(try KeyFile.read(path) == secret)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["relay.key"])
    }

    @Test("the text form round-trips")
    func textRoundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("token")
        let text = "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"
        try KeyFile.write(text: text, to: path)
        #expect(try KeyFile.permissions(of: path) == 0o600)
        #expect(String(decoding: try KeyFile.read(path).unsafeCopy(), as: UTF8.self) == text)
    }

    @Test("an empty secret round-trips")
    func empty() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("empty")
        try KeyFile.write(SecureBytes([]), to: path)
        #expect(try KeyFile.read(path).count == 0)
    }

    @Test("writing over an existing file without replace throws and keeps the old contents")
    func noReplace() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("relay.key")
        let first = seededSecret(32, seed: "first")
        let second = seededSecret(32, seed: "second")
        try KeyFile.write(first, to: path)
        #expect(throws: CryptoError.keyFile(path: path, reason: "already exists")) { try KeyFile.write(second, to: path) }
        #expect(try KeyFile.read(path) == first)

        try KeyFile.write(second, to: path, replace: true)
        #expect(try KeyFile.read(path) == second)
        #expect(try KeyFile.permissions(of: path) == 0o600)
    }

    @Test("replace resets loose permissions to 0600")
    func replaceTightens() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("relay.key")
        try KeyFile.write(seededSecret(32, seed: "first"), to: path)
        try Self.setPermissions(0o644, of: path)
        try KeyFile.write(seededSecret(32, seed: "second"), to: path, replace: true)
        #expect(try KeyFile.permissions(of: path) == 0o600)
    }

    @Test("a file readable by group or others is refused as too open", arguments: [0o644, 0o640, 0o604, 0o620, 0o660, 0o601])
    func tooOpen(_ mode: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("relay.key")
        try KeyFile.write(seededSecret(32, seed: "key file"), to: path)
        try Self.setPermissions(mode, of: path)
        #expect(try KeyFile.permissions(of: path) == mode)
        let error = #expect(throws: CryptoError.self) { try KeyFile.read(path) }
        let reason = try #require(Self.keyFileReason(error))
        #expect(reason.contains("too open"))
        #expect(reason.contains(String(mode, radix: 8)))
        #expect(error?.description.contains("too open") == true)
        #expect(error?.description.contains(path) == true)
    }

    @Test("owner-only modes other than 0600 are accepted", arguments: [0o400, 0o700])
    func ownerOnly(_ mode: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("relay.key")
        let secret = seededSecret(16, seed: "owner only")
        try KeyFile.write(secret, to: path)
        try Self.setPermissions(mode, of: path)
        #expect(try KeyFile.read(path) == secret)
    }

    @Test("a missing file throws keyFile")
    func missing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("does-not-exist.key")
        let error = #expect(throws: CryptoError.self) { try KeyFile.read(path) }
        #expect(Self.keyFileReason(error) != nil)
        #expect(throws: CryptoError.self) { try KeyFile.permissions(of: path) }
    }

    @Test("a directory is refused")
    func directoryRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("subdir")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        let error = #expect(throws: CryptoError.self) { try KeyFile.read(path) }
        #expect(Self.keyFileReason(error) == "not a regular file")
    }

    @Test("a file larger than maximumSize is refused")
    func tooLarge() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("big.key")
        try KeyFile.write(seededSecret(100, seed: "big"), to: path)
        #expect(throws: CryptoError.keyFile(path: path, reason: "larger than 64 bytes")) { try KeyFile.read(path, maximumSize: 64) }
        #expect(try KeyFile.read(path, maximumSize: 100).count == 100)
    }

    @Test("writing into a missing directory throws keyFile")
    func missingDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("no-such-dir/relay.key")
        let error = #expect(throws: CryptoError.self) { try KeyFile.write(seededSecret(32, seed: "x"), to: path) }
        #expect(Self.keyFileReason(error) != nil)
    }
}
