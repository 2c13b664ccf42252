import Foundation
import GRDB
public import SecIRCCore
public import SecIRCCrypto

/// The user's long-term keys: the Ed25519 identity (ID = SHA-256 of its public key) and the
/// X25519 identity-agreement key. Made on first start, kept sealed.
public struct ClientIdentity: Sendable {
    public let keys: SessionSetup.Identity

    public var id: ID { keys.signing.publicKey.id }
    public var signingKey: SigningPublicKey { keys.signing.publicKey }
    public var agreementKey: AgreementPublicKey { keys.agreement.publicKey }

    static func loadOrCreate(_ store: ClientStore, rng: inout some RandomSource) throws -> ClientIdentity {
        let fresh = ClientIdentity(keys: SessionSetup.Identity(using: &rng))
        return try store.write { db in
            if let identity = try store.metaSecret(db, "identity") { return try decode(identity) }
            try store.setMetaSecret(db, "identity", fresh.encoded())
            return fresh
        }
    }

    private func encoded() -> SecureBytes {
        let seed = keys.signing.seed()
        return SecureBytes(count: 64) { out in
            seed.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[0..<32]).copyMemory(from: $0) }
            keys.agreement.withUnsafeScalar { UnsafeMutableRawBufferPointer(rebasing: out[32..<64]).copyMemory(from: $0) }
        }
    }

    private static func decode(_ identity: SecureBytes) throws -> ClientIdentity {
        guard identity.count == 64 else { throw ClientError.storage("stored identity has the wrong size") }
        return ClientIdentity(keys: SessionSetup.Identity(signing: try SigningPrivateKey(seed: identity.slice(0..<32)),
                                                          agreement: try AgreementPrivateKey(secret: identity.slice(32..<64))))
    }
}

/// The prekeys behind this client's invites. Each new invite gets a new pair (a signed X25519
/// prekey and an ML-KEM-768 prekey, with one ID); a pair is kept until a day after its invite
/// expires and then deleted, so a session set-up made from an expired invite is refused here
/// too, not only by the person who was given the invite.
public struct PrekeyRing: Sendable {
    public struct Entry: Sendable {
        public var prekeys: SessionSetup.Prekeys
        /// Unix seconds after which set-ups for these prekeys are refused.
        public var retireAfter: Int64
    }

    public static let grace: Int64 = 86_400
    public static let maximumEntries = 16
    public private(set) var entries: [Entry]

    /// The entry for a set-up's prekey IDs, if it is still in service at `now`.
    public func entry(signedPrekeyID: UInt32, pqPrekeyID: UInt32, now: UnixTime) -> Entry? {
        entries.first {
            $0.prekeys.signedPrekeyID == signedPrekeyID && $0.prekeys.pqPrekeyID == pqPrekeyID && $0.retireAfter > now.seconds
        }
    }

    /// Adds a fresh pair for an invite expiring at `expiry`, dropping retired ones.
    mutating func rotate(expiry: Int64, now: UnixTime, rng: inout some RandomSource) -> SessionSetup.Prekeys {
        let id = (entries.map(\.prekeys.signedPrekeyID).max() ?? 0) &+ 1
        let prekeys = SessionSetup.Prekeys(signedPrekeyID: id, pqPrekeyID: id, using: &rng)
        entries.removeAll { $0.retireAfter <= now.seconds }
        entries.append(Entry(prekeys: prekeys, retireAfter: expiry + Self.grace))
        if entries.count > Self.maximumEntries { entries.removeFirst(entries.count - Self.maximumEntries) }
        return prekeys
    }

    static let entryLength = 4 + 32 + 4 + KEMPrivateKey.seedByteCount + 8

    static func load(_ db: Database, store: ClientStore) throws -> PrekeyRing {
        guard let secret = try store.metaSecret(db, "prekeys") else { return PrekeyRing(entries: []) }
        guard secret.count % entryLength == 0 else { throw ClientError.storage("stored prekeys have the wrong size") }
        var entries: [Entry] = []
        for offset in stride(from: 0, to: secret.count, by: entryLength) {
            let numbers = secret.withUnsafeBytes { raw in
                (UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)),
                 UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 36, as: UInt32.self)),
                 Int64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + entryLength - 8, as: Int64.self)))
            }
            let prekeys = SessionSetup.Prekeys(
                signedPrekeyID: numbers.0, signedPrekey: try AgreementPrivateKey(secret: secret.slice((offset + 4)..<(offset + 36))),
                pqPrekeyID: numbers.1, pqPrekey: try KEMPrivateKey(seed: secret.slice((offset + 40)..<(offset + entryLength - 8))))
            entries.append(Entry(prekeys: prekeys, retireAfter: numbers.2))
        }
        return PrekeyRing(entries: entries)
    }

    func save(_ db: Database, store: ClientStore) throws {
        let secret = SecureBytes(count: entries.count * Self.entryLength) { out in
            for (i, entry) in entries.enumerated() {
                let base = i * Self.entryLength
                let p = entry.prekeys
                out.storeBytes(of: p.signedPrekeyID.bigEndian, toByteOffset: base, as: UInt32.self)
                p.signedPrekey.withUnsafeScalar { UnsafeMutableRawBufferPointer(rebasing: out[(base + 4)..<(base + 36)]).copyMemory(from: $0) }
                out.storeBytes(of: p.pqPrekeyID.bigEndian, toByteOffset: base + 36, as: UInt32.self)
                p.pqPrekey.seed().withUnsafeBytes {
                    UnsafeMutableRawBufferPointer(rebasing: out[(base + 40)..<(base + Self.entryLength - 8)]).copyMemory(from: $0)
                }
                out.storeBytes(of: entry.retireAfter.bigEndian, toByteOffset: base + Self.entryLength - 8, as: Int64.self)
            }
        }
        try store.setMetaSecret(db, "prekeys", secret)
    }
}

extension SecureBytes {
    /// A copy of `range`, itself secret.
    func slice(_ range: Range<Int>) -> SecureBytes {
        withUnsafeBytes { raw in SecureBytes(count: range.count) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[range])) } }
    }
}

/// A mailbox this client owns at one relay: the Ed25519 key whose SHA-256 is the mailbox ID.
public struct MailboxKey: Sendable {
    public let relayID: ID
    public let key: SigningPrivateKey
    public var address: MailboxAddress { MailboxAddress(relayID: relayID, mailboxID: key.publicKey.id.rawValue) }

    static func load(_ store: ClientStore) throws -> [MailboxKey] {
        try store.read { db in try store.metaSecret(db, "mailboxes").map(decode) ?? [] }
    }

    static func save(_ keys: [MailboxKey], in store: ClientStore) throws {
        try store.write { db in
            let secret = SecureBytes(count: keys.count * 64) { out in
                for (i, entry) in keys.enumerated() {
                    entry.relayID.rawValue.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[(i * 64)..<(i * 64 + 32)]).copyMemory(from: $0) }
                    entry.key.seed().withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[(i * 64 + 32)..<(i * 64 + 64)]).copyMemory(from: $0) }
                }
            }
            try store.setMetaSecret(db, "mailboxes", secret)
        }
    }

    private static func decode(_ secret: SecureBytes) throws -> [MailboxKey] {
        guard secret.count % 64 == 0 else { throw ClientError.storage("stored mailbox keys have the wrong size") }
        return try stride(from: 0, to: secret.count, by: 64).map { offset in
            MailboxKey(relayID: ID(rawValue: secret.withUnsafeBytes { Bytes32(copying: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + 32)])) }),
                       key: try SigningPrivateKey(seed: secret.slice((offset + 32)..<(offset + 64))))
        }
    }
}
