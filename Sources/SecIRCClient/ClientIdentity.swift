import Foundation
import GRDB
public import SecIRCCore
public import SecIRCCrypto

/// The user's long-term keys: the Ed25519 identity (ID = SHA-256 of its public key), the X25519
/// identity-agreement key, and the prekeys offered in invites. Made on first start, kept sealed.
public struct ClientIdentity: Sendable {
    public let keys: SessionSetup.Identity
    public let prekeys: SessionSetup.Prekeys

    public var id: ID { keys.signing.publicKey.id }
    public var signingKey: SigningPublicKey { keys.signing.publicKey }
    public var agreementKey: AgreementPublicKey { keys.agreement.publicKey }

    static func loadOrCreate(_ store: ClientStore, rng: inout some RandomSource) throws -> ClientIdentity {
        let fresh = ClientIdentity(keys: SessionSetup.Identity(using: &rng),
                                   prekeys: SessionSetup.Prekeys(signedPrekeyID: 1, pqPrekeyID: 1, using: &rng))
        return try store.write { db in
            if let identity = try store.metaSecret(db, "identity"), let prekeys = try store.metaSecret(db, "prekeys") {
                return try decode(identity: identity, prekeys: prekeys)
            }
            try store.setMetaSecret(db, "identity", fresh.encodedIdentity())
            try store.setMetaSecret(db, "prekeys", fresh.encodedPrekeys())
            return fresh
        }
    }

    private func encodedIdentity() -> SecureBytes {
        let seed = keys.signing.seed()
        return SecureBytes(count: 64) { out in
            seed.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[0..<32]).copyMemory(from: $0) }
            keys.agreement.withUnsafeScalar { UnsafeMutableRawBufferPointer(rebasing: out[32..<64]).copyMemory(from: $0) }
        }
    }

    private func encodedPrekeys() -> SecureBytes {
        let pqSeed = prekeys.pqPrekey.seed()
        return SecureBytes(count: 4 + 32 + 4 + KEMPrivateKey.seedByteCount) { out in
            out.storeBytes(of: prekeys.signedPrekeyID.bigEndian, toByteOffset: 0, as: UInt32.self)
            prekeys.signedPrekey.withUnsafeScalar { UnsafeMutableRawBufferPointer(rebasing: out[4..<36]).copyMemory(from: $0) }
            out.storeBytes(of: prekeys.pqPrekeyID.bigEndian, toByteOffset: 36, as: UInt32.self)
            pqSeed.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[40...]).copyMemory(from: $0) }
        }
    }

    private static func decode(identity: SecureBytes, prekeys: SecureBytes) throws -> ClientIdentity {
        guard identity.count == 64, prekeys.count == 40 + KEMPrivateKey.seedByteCount else {
            throw ClientError.storage("stored identity has the wrong size")
        }
        func slice(_ secret: SecureBytes, _ range: Range<Int>) -> SecureBytes {
            secret.withUnsafeBytes { raw in
                SecureBytes(count: range.count) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[range])) }
            }
        }
        let ids = prekeys.withUnsafeBytes { raw in
            (UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)),
             UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 36, as: UInt32.self)))
        }
        return ClientIdentity(
            keys: SessionSetup.Identity(signing: try SigningPrivateKey(seed: slice(identity, 0..<32)),
                                        agreement: try AgreementPrivateKey(secret: slice(identity, 32..<64))),
            prekeys: SessionSetup.Prekeys(signedPrekeyID: ids.0, signedPrekey: try AgreementPrivateKey(secret: slice(prekeys, 4..<36)),
                                          pqPrekeyID: ids.1, pqPrekey: try KEMPrivateKey(seed: slice(prekeys, 40..<prekeys.count))))
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
        return try secret.withUnsafeBytes { raw in
            try stride(from: 0, to: raw.count, by: 64).map { offset in
                let seed = SecureBytes(count: 32) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(offset + 32)..<(offset + 64)])) }
                return MailboxKey(relayID: ID(rawValue: Bytes32(copying: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 32)]))),
                                  key: try SigningPrivateKey(seed: seed))
            }
        }
    }
}
