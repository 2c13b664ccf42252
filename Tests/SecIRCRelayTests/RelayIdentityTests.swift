import Foundation
import SecIRCCrypto
import SecIRCRelay
import Testing

@Suite struct RelayIdentityTests {
    private func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("secirc-\(UUID().uuidString)").path
    }

    @Test func createsKeyOnFirstStartAndLoadsItAfter() throws {
        let dir = temporaryDirectory() + "/nested/data"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededRandom(seed: "relay-identity")
        let first = try RelayIdentity.loadOrCreate(dataDirectory: dir, using: &rng)
        #expect(first.created)
        #expect(try KeyFile.permissions(of: dir + "/identity.key") == 0o600)
        #expect(try KeyFile.permissions(of: dir) == 0o700)

        let second = try RelayIdentity.loadOrCreate(dataDirectory: dir, using: &rng)
        #expect(!second.created)
        #expect(second.id == first.id)
        #expect(second.id == first.signingKey.publicKey.id)
        #expect(second.id.hex.count == 64)
    }

    @Test func refusesKeyReadableByOthers() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SystemRandom()
        _ = try RelayIdentity.loadOrCreate(dataDirectory: dir, using: &rng)
        chmod(dir + "/identity.key", 0o644)
        #expect {
            try RelayIdentity.loadOrCreate(dataDirectory: dir, using: &rng)
        } throws: { error in
            "\(error)".contains("too open")
        }
    }

    @Test func refusesKeyOfWrongSize() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try DataDirectory.prepare(dir)
        try KeyFile.write(SecureBytes([1, 2, 3]), to: dir + "/identity.key")
        var rng = SystemRandom()
        #expect {
            try RelayIdentity.loadOrCreate(dataDirectory: dir, using: &rng)
        } throws: { error in
            "\(error)".contains("expected a 32-byte Ed25519 seed")
        }
    }

    @Test func dataDirectoryThatIsAFileIsRefused() throws {
        let path = temporaryDirectory()
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rng = SystemRandom()
        #expect(throws: CryptoError.self) { try RelayIdentity.loadOrCreate(dataDirectory: path, using: &rng) }
    }
}

@Suite struct RelaySettingsTests {
    @Test func flagsOverrideFilesAndEnvironment() throws {
        let s = try RelaySettings.load(serverPath: nil, securityPath: nil, dataDirectory: "/tmp/x",
                                       udpListen: "127.0.0.1:7000", httpListen: "127.0.0.1:7001",
                                       environment: ["SECIRC_SERVER_UDP_LISTEN": "127.0.0.1:9"])
        #expect(s.server.relay.dataDirectory == "/tmp/x")
        #expect(s.server.udp.listen.port == 7000)
        #expect(s.server.http.listen.port == 7001)
    }

    @Test func badFlagNamesTheFlag() {
        #expect {
            try RelaySettings.load(serverPath: nil, securityPath: nil, udpListen: "nope", environment: [:])
        } throws: { error in
            "\(error)" == "--udp-listen: \"nope\" is not host:port"
        }
    }
}
