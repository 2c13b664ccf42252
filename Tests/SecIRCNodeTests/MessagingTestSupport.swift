import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

extension ID {
    /// An ID of 32 bytes `byte`: `ID.byte(1) < ID.byte(2)`.
    static func byte(_ byte: UInt8) -> ID { ID(rawValue: Bytes32(filling: { $0.initializeMemory(as: UInt8.self, repeating: byte) })) }
}

extension UnixTime {
    static let t0 = UnixTime(seconds: 1_800_000_000)
    func plus(seconds: Int64) -> UnixTime { adding(.seconds(seconds)) }
}

/// Relay descriptors good enough to choose mailboxes from.
enum TestRelays {
    static func make(_ count: Int, seed: String = "relays") -> [RelayDescriptor] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { i in
            RelayDescriptor(identityKey: SigningPrivateKey(using: &rng).publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey,
                            udp: "127.0.0.1:\(7000 + i)", http: "http://127.0.0.1:\(8000 + i)",
                            onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 0, validUntil: Int64.max)],
                            capacity: 10, flags: ["mailbox"], published: 1)
        }
    }
}

/// One user's messenger over a memory store, with a seeded random source: what the simulator
/// will run a thousand of. Packets go straight from `Outgoing` to `receive` (sealed and
/// fragmented as on the network).
final class Peer {
    let name: String
    var store: any MessengerStore
    var messenger: Messenger
    var rng: SeededRandom
    var reassembler = Reassembler()
    var events: [ClientEvent] = []
    /// The refusal labels of what `receive` was refused (``Messenger/Received/refusal``).
    var refusals: [String] = []
    /// The labels of every refusal (``Messenger/Received/label``), rules or failed checks.
    var dropLabels: [ReceiveDropReason] = []

    /// `policy`: automatic acceptance unless a test is about contact requests.
    init(_ name: String, store: any MessengerStore = MemoryMessengerStore(), relays: [RelayDescriptor] = TestRelays.make(3),
         policy: ContactPolicy = .autoAccept) throws {
        self.name = name
        self.store = store
        rng = SeededRandom(seed: "peer " + name)
        messenger = try Messenger(store: store, displayName: name, retry: RetrySchedule(initialSeconds: 2, maximumSeconds: 60),
                                  policy: policy, rng: &rng)
        if !relays.isEmpty { _ = try messenger.chooseMailboxes(from: relays, ratings: relays.asDescribed, count: 2, rng: &rng) }
    }

    var id: ID { messenger.identity.id }

    func add(_ other: Peer, now: UnixTime = .t0) throws -> ContactRecord {
        try messenger.addContact(inviteURI: other.messenger.invite(now: now, rng: &other.rng).uri, name: nil, now: now, rng: &rng)
    }

    func drainOutbox(now: UnixTime) throws -> [Outgoing] {
        try messenger.dueOutbox(now: now).compactMap { try messenger.prepareSend($0, now: now, rng: &rng) }
    }

    /// Delivers `outgoing` whole; returns the receipts to send back.
    @discardableResult
    func receive(_ outgoing: Outgoing, now: UnixTime) throws -> [Outgoing] {
        var receipts: [Outgoing] = []
        for fragment in try SealedPacket.fragments(of: outgoing.message, transferID: outgoing.transferID) {
            let body = try SealedPacket.seal(fragment, to: outgoing.recipient, rng: &rng)
            let opened = try SealedPacket.open(body, with: messenger.identity.keys.agreement)
            guard let message = try reassembler.add(opened, now: now) else { continue }
            let received = messenger.receive(message, now: now)
            events += received.events
            if let refusal = received.refusal { refusals.append(refusal) }
            if let label = received.label { dropLabels.append(label) }
            if let (contact, ids) = received.receipt,
               let receipt = try messenger.prepareReceipt(to: contact, ids: ids, now: now, rng: &rng) {
                receipts.append(receipt)
            }
        }
        return receipts
    }

    /// Sends everything due to `other` and brings the receipts back, until both outboxes are quiet.
    func exchange(with other: Peer, now: UnixTime) throws {
        for packet in try drainOutbox(now: now) {
            for receipt in try other.receive(packet, now: now) { try receive(receipt, now: now) }
        }
        for packet in try other.drainOutbox(now: now) {
            for receipt in try receive(packet, now: now) { try other.receive(receipt, now: now) }
        }
    }

    func texts(with contact: ID) throws -> [String] {
        try messenger.messages(with: contact, before: nil, limit: 500).messages.map(\.text)
    }
}

extension Array where Element == RelayDescriptor {
    /// What a directory without ratings grants these relays: the flags each descriptor names.
    var asDescribed: [ID: RelayRating] {
        Dictionary(uniqueKeysWithValues: map { ($0.id, RelayRating(describedBy: $0, rosterMember: false)) })
    }
}
