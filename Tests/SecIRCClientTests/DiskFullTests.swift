#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB
@testable import SecIRCClient
import SecIRCConfig
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCNode
import Testing

/// A client whose data directory is a small tmpfs that fills up: real SQLite, a really full
/// disk. Mounting needs root, which CI has; elsewhere the test is skipped and says why.
@Suite(.serialized) struct DiskFullTests {
    static let isRoot = getuid() == 0

    /// A tmpfs of `size` mounted on a fresh directory; `unmount()` removes it.
    struct SmallDisk {
        let directory = TemporaryDirectory()
        var path: String { directory.path }

        init(size: String) throws {
            try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", directory.path])
        }

        func unmount() { try? Self.run("/bin/umount", [directory.path]) }

        /// Writes a file until the disk refuses more; its path.
        func fill() -> String {
            let filler = path + "/filler"
            let fd = open(filler, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
            defer { close(fd) }
            let chunk = [UInt8](repeating: 0x5a, count: 4096)
            while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
            return filler
        }

        static func run(_ tool: String, _ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ClientError.storage("\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
            }
        }
    }

    @Test("disk full: incoming mail is not stored (to be fetched again, not undecryptable), the API answers 507, and all is well once there is room",
          .enabled(if: isRoot, "mounting a tmpfs needs root (CI runs as root)"))
    func diskFull() throws {
        let disk = try SmallDisk(size: "2m")
        defer { disk.unmount() }
        let relays = try FakeRelays.make(3)
        var rng = SystemRandom()
        let key = SymmetricKey(using: &rng)
        let store = try SQLiteMessengerStore(path: disk.path + "/" + SQLiteMessengerStore.fileName, key: key)
        let carol = try User.open(store, name: "carol", policy: .autoAccept, rng: &rng)
        _ = try carol.chooseMailboxes(from: relays, ratings: relays.asDescribed, count: 2, rng: &rng)
        let dave = try User("dave", relays: relays, store: .memory)
        let invite = try carol.invite(now: .t0, rng: &rng)
        let daveSide = try dave.messenger.addContact(inviteURI: invite.uri, name: "carol", now: .t0, rng: &rng)

        // The first message (it sets the session up) is stored while there is room.
        _ = try dave.queueText(to: daveSide.id, "before", now: .t0)
        let before = try #require(try dave.drainOutbox(now: .t0).first)
        let stored = carol.receive(before.message, now: .t0)
        #expect(!stored.notStored)
        let daveID = dave.id

        let filler = disk.fill()
        let sent = try dave.queueText(to: daveSide.id, "while full", now: .t0.plus(seconds: 1))
        let whileFull = try #require(try dave.drainOutbox(now: .t0.plus(seconds: 1)).first { $0.messageID == sent.id })
        let refused = carol.receive(whileFull.message, now: .t0.plus(seconds: 1))
        #expect(refused.notStored)
        #expect(refused.storeFull)
        #expect(refused.dropped?.contains("undecryptable") != true)
        #expect(refused.events.isEmpty)

        let routes = ClientRoutes(messenger: carol, network: NetworkState(), events: ClientEvents(),
                                  settings: ClientSettings(client: ClientConfig(), security: SecurityConfig()),
                                  token: HTTPBearerToken(SecureBytes(Array(ClientRoutesFixture.token.utf8))), clock: { .t0 }, poke: {})
        let response = routes.router().handle(HTTPRequest(
            method: .post, path: "/v1/conversations/\(daveID.hex)/messages",
            headers: ["authorization": "Bearer \(ClientRoutesFixture.token)", "content-type": "application/json"], body: Array(#"{"text":"hello"}"#.utf8)))
        #expect(response.status == 507)
        #expect(response.errorCode == "insufficient_storage")
        #expect(String(decoding: response.bytes, as: UTF8.self).contains("disk is full"))

        // Room again: the same mail, handed over again by the relay, is stored once.
        try FileManager.default.removeItem(atPath: filler)
        let again = carol.receive(whileFull.message, now: .t0.plus(seconds: 2))
        #expect(!again.notStored)
        #expect(again.dropped == nil)
        let texts = try carol.messages(with: daveID, before: nil, limit: 10).messages.map(\.text)
        #expect(texts.filter { $0 == "while full" }.count == 1)
    }

    /// A full disk does not always show as SQLITE_FULL: a failed write, sync or resize of the
    /// database's files counts as full too (mail is then held on the relay, never given up on);
    /// other failures are storage errors.
    @Test(arguments: [
        (ResultCode.SQLITE_FULL, true), (.SQLITE_IOERR_WRITE, true), (.SQLITE_IOERR_FSYNC, true),
        (.SQLITE_IOERR_TRUNCATE, true), (.SQLITE_CORRUPT, false), (.SQLITE_BUSY, false), (.SQLITE_IOERR_READ, false),
    ])
    func whatCountsAsAFullDisk(code: ResultCode, full: Bool) {
        let error = SQLiteMessengerStore.databaseError(DatabaseError(resultCode: code))
        if case .insufficientStorage = error { #expect(full) } else { #expect(!full, "\(code) is a full disk") }
    }
}
