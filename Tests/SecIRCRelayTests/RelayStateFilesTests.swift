import Foundation
import Logging
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCRelay
import SecIRCRuntime
import Testing

/// The relay's state files: round trip, 0600, and a corrupt file is an error naming it.
@Suite struct RelayStateFilesTests {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-files-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }

    static func ring() -> OnionKeyRing {
        var rng = SeededRandom(seed: "files")
        var ring = OnionKeyRing(period: .seconds(3_600), grace: .seconds(60), now: UnixTime(seconds: 1_800_000_000), rng: &rng)
        _ = ring.rotate(now: UnixTime(seconds: 1_800_000_050), rng: &rng)
        return ring
    }

    static func directory() throws -> SignedDocument {
        var rng = SeededRandom(seed: "files directory")
        let key = SigningPrivateKey(using: &rng)
        let roster = Roster(members: [Roster.Member(identityKey: key.publicKey, udp: "127.0.0.1:1", http: "http://127.0.0.1:2")])
        var authority = DirectoryAuthority(identity: key, roster: roster, network: NetworkParameters(coverRate: 1, meanDelayMs: 5),
                                           period: .seconds(60))
        return authority.sign(now: UnixTime(seconds: 1_800_000_000)).document
    }

    @Test func saveAndLoadRoundTripWithMode0600() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = RelayStateFiles(dataDirectory: dir)
        #expect(try files.loadOnionKeys() == nil && files.loadDirectory() == nil, "nothing saved yet: start afresh")

        let ring = Self.ring()
        try files.saveOnionKeys(ring.saved)
        let loaded = try #require(try files.loadOnionKeys())
        #expect(OnionKeyRing(restoring: loaded, period: ring.period, grace: ring.grace).descriptorEntries == ring.descriptorEntries)
        #expect(loaded.previous?.key.publicKey == ring.previous?.publicKey)

        let document = try Self.directory()
        try files.saveDirectory(document)
        #expect(try files.loadDirectory() == document)
        // Saved again (replaced atomically), still 0600, no temporary file left behind.
        try files.saveDirectory(document)
        for path in [files.onionKeysPath, files.directoryPath] { #expect(try KeyFile.permissions(of: path) == 0o600) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["directory.json", "onion-keys"])
    }

    @Test func corruptOrOpenFilesAreErrorsNamingTheFile() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = RelayStateFiles(dataDirectory: dir)
        try files.saveOnionKeys(Self.ring().saved)
        try KeyFile.write(text: "secirc-onion-keys-v1\nshort", to: files.onionKeysPath, replace: true)
        #expect { try files.loadOnionKeys() } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(files.onionKeysPath + ": ") && text.contains("move it away")
        }
        try KeyFile.write(text: "{\"type\": 1", to: files.directoryPath)
        #expect { try files.loadDirectory() } throws: { error in "\(error)".hasPrefix(files.directoryPath + ": not a signed document") }

        try files.saveOnionKeys(Self.ring().saved)
        chmod(files.onionKeysPath, 0o644)
        #expect { try files.loadOnionKeys() } throws: { error in "\(error)".contains("too open") }
    }

    /// A relay whose data directory holds a corrupt state file does not start, and says which.
    @Test func aRelayWithACorruptFileDoesNotStart() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try KeyFile.write(text: "not a key ring", to: dir + "/" + RelayStateFiles.onionKeysName)
        let settings = try RelaySettings.load(serverPath: nil, securityPath: nil, dataDirectory: dir,
                                              udpListen: "127.0.0.1:0", httpListen: "127.0.0.1:0", environment: [:])
        #expect {
            _ = try RelayNode(settings: settings, logLevel: LogLevelControl(.warning), logger: Logger(label: "test"))
        } throws: { error in
            (error as? StateFileError)?.path == dir + "/onion-keys"
        }
    }

    /// `governance.json` (the roster changes in force and what this member signed) and a
    /// client's `roster-changes.json`: round trip, 0600, and a corrupt file.
    @Test func governanceAndRosterChangesFiles() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededRandom(seed: "files governance")
        let keys = (0..<2).map { _ in SigningPrivateKey(using: &rng) }
        let genesis = Roster(members: [Roster.Member(identityKey: keys[0].publicKey, udp: "127.0.0.1:1", http: "http://127.0.0.1:2")])
        let next = try RosterChange.following(genesis, members: genesis.members + [
            Roster.Member(identityKey: keys[1].publicKey, udp: "127.0.0.1:3", http: "http://127.0.0.1:4"),
        ], threshold: nil, network: nil, proposedAt: 0, note: nil)
        var change = next.unsignedDocument()
        change.sign(with: keys[0])

        let files = RelayStateFiles(dataDirectory: dir)
        #expect(try files.loadGovernance() == nil)
        let state = GovernanceState(changes: [change], signedEpoch: 1, signedID: change.bodyHash)
        try files.saveGovernance(state)
        #expect(try files.loadGovernance() == state)
        #expect(try FileManager.default.attributesOfItem(atPath: files.governancePath)[.posixPermissions] as? Int == 0o600)
        try Data("{\"changes\":7}".utf8).write(to: URL(fileURLWithPath: files.governancePath))
        #expect(throws: StateFileError.self) { try files.loadGovernance() }

        let client = RosterChangesFile(dataDirectory: dir)
        #expect(try client.load().isEmpty)
        try client.save([change], roster: next.roster)
        #expect(try client.load() == [change])
        #expect(try FileManager.default.attributesOfItem(atPath: client.path)[.posixPermissions] as? Int == 0o600)
    }
}
