import Foundation
@testable import SecIRCClient
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// A fresh, private temporary directory, removed when the value is.
final class TemporaryDirectory: Sendable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "secirc-client-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Relay descriptors good enough to choose mailboxes and build paths from.
enum FakeRelays {
    static func make(_ count: Int, seed: String = "relays") throws -> [RelayDescriptor] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { i in
            RelayDescriptor(identityKey: SigningPrivateKey(using: &rng).publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey,
                            udp: "127.0.0.1:\(7000 + i)", http: "http://127.0.0.1:\(8000 + i)",
                            onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 0, validUntil: Int64.max)],
                            capacity: 10, flags: ["mailbox"], published: 1)
        }
    }
}

/// Which `MessengerStore` a messenger test runs over: every behaviour test runs over both.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, sqlite
    var testDescription: String { rawValue }
}

/// One user's messenger over a store of `kind` (the SQLite one in its own directory);
/// `reopen()` is a restart: a new messenger over what the store committed.
final class User {
    let directory = TemporaryDirectory()
    let name: String
    let kind: StoreKind
    let key: SymmetricKey
    /// Automatic acceptance unless a test is about contact requests.
    let policy: ContactPolicy
    var messenger: Messenger
    var reassembler = Reassembler()
    var events: [ClientEvent] = []
    var rng = SystemRandom()

    init(_ name: String, relays: [RelayDescriptor], store kind: StoreKind = .sqlite, policy: ContactPolicy = .autoAccept) throws {
        self.name = name
        self.kind = kind
        self.policy = policy
        key = SymmetricKey(using: &rng)
        let store: any MessengerStore = switch kind {
        case .memory: MemoryMessengerStore()
        case .sqlite: try SQLiteMessengerStore(path: directory.path + "/" + SQLiteMessengerStore.fileName, key: key)
        }
        messenger = try Self.open(store, name: name, policy: policy, rng: &rng)
        if !relays.isEmpty { _ = try messenger.chooseMailboxes(from: relays, ratings: relays.asDescribed, count: 2, rng: &rng) }
    }

    static func open(_ store: any MessengerStore, name: String, policy: ContactPolicy, rng: inout SystemRandom) throws -> Messenger {
        try Messenger(store: store, displayName: name, retry: RetrySchedule(initialSeconds: 2, maximumSeconds: 60), policy: policy,
                      rng: &rng)
    }

    /// A restart: the SQLite database opened again, or a new memory store from the committed state.
    func reopen() throws {
        let store: any MessengerStore = switch kind {
        case .memory: MemoryMessengerStore((messenger.store as! MemoryMessengerStore).snapshot)
        case .sqlite: try SQLiteMessengerStore(path: directory.path + "/" + SQLiteMessengerStore.fileName, key: key)
        }
        messenger = try Self.open(store, name: name, policy: policy, rng: &rng)
        reassembler = Reassembler()
    }

    var id: ID { messenger.identity.id }

    func invite(now: UnixTime) throws -> Invite { try messenger.invite(now: now, rng: &rng) }

    func add(_ other: User, name: String? = nil, now: UnixTime) throws -> ContactRecord {
        try messenger.addContact(inviteURI: other.invite(now: now).uri, name: name, now: now, rng: &rng)
    }

    func queueText(to contact: ID, _ text: String, now: UnixTime) throws -> MessageRecord {
        try messenger.queueText(to: contact, text: text, now: now, rng: &rng)
    }

    /// Every due outbox message, encrypted for its next attempt.
    func drainOutbox(now: UnixTime) throws -> [Outgoing] {
        try messenger.dueOutbox(now: now).compactMap { try messenger.prepareSend($0, now: now, rng: &rng) }
    }

    /// The packets of `outgoing` as the mailbox relay would hold them, opened and reassembled here.
    /// Returns the receipts this user would send back.
    @discardableResult
    func receive(_ outgoing: Outgoing, now: UnixTime, shuffle: Bool = false, only: Set<Int>? = nil) throws -> [Outgoing] {
        var bodies = try SealedPacket.fragments(of: outgoing.message, transferID: outgoing.transferID).map {
            try SealedPacket.seal($0, to: outgoing.recipient, rng: &rng)
        }
        #expect(bodies.allSatisfy { $0.count == PacketGeometry.standard.bodyLength })
        if let only { bodies = bodies.enumerated().filter { only.contains($0.offset) }.map(\.element) }
        if shuffle { bodies.reverse() }
        var receipts: [Outgoing] = []
        for body in bodies {
            let fragment = try SealedPacket.open(body, with: messenger.identity.keys.agreement)
            guard let message = try reassembler.add(fragment, now: now) else { continue }
            let received = messenger.receive(message, now: now)
            events += received.events
            if let (contact, ids) = received.receipt,
               let receipt = try messenger.prepareReceipt(to: contact, ids: ids, now: now, rng: &rng) {
                receipts.append(receipt)
            }
        }
        return receipts
    }

    func texts(with contact: ID) throws -> [String] {
        try messenger.messages(with: contact, before: nil, limit: 500).messages.map(\.text)
    }

    func state(of id: MessageID) throws -> MessageRecord.State? { try messenger.message(id: id)?.state }
}

extension UnixTime {
    static let t0 = UnixTime(seconds: 1_800_000_000)
    func plus(seconds: Int64) -> UnixTime { adding(.seconds(seconds)) }
}

extension Array where Element == RelayDescriptor {
    /// What a directory without ratings grants these relays: the flags each descriptor names.
    var asDescribed: [ID: RelayRating] {
        Dictionary(uniqueKeysWithValues: map { ($0.id, RelayRating(describedBy: $0, rosterMember: false)) })
    }
}
