import SecIRCCore
import SecIRCCrypto
import SecIRCNode

// How the SQLite store lays out the secrets it seals (unchanged from the first schema, so
// existing databases open): fixed-size records, big-endian numbers.

extension ClientIdentity {
    /// Ed25519 seed (32) | X25519 secret (32).
    func storageBytes() -> SecureBytes {
        let seed = keys.signing.seed()
        return SecureBytes(count: 64) { out in
            seed.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[0..<32]).copyMemory(from: $0) }
            keys.agreement.withUnsafeScalar { UnsafeMutableRawBufferPointer(rebasing: out[32..<64]).copyMemory(from: $0) }
        }
    }

    init(storageBytes identity: SecureBytes) throws {
        guard identity.count == 64 else { throw ClientError.storage("stored identity has the wrong size") }
        self.init(keys: SessionSetup.Identity(signing: try SigningPrivateKey(seed: identity.slice(0..<32)),
                                              agreement: try AgreementPrivateKey(secret: identity.slice(32..<64))))
    }
}

extension PrekeyRing {
    /// Per entry: signed prekey ID (4) | X25519 secret (32) | ML-KEM prekey ID (4) | ML-KEM seed | retire after (8).
    static let storageEntryLength = 4 + 32 + 4 + KEMPrivateKey.seedByteCount + 8

    func storageBytes() -> SecureBytes {
        let length = Self.storageEntryLength
        return SecureBytes(count: entries.count * length) { out in
            for (i, entry) in entries.enumerated() {
                let base = i * length
                let p = entry.prekeys
                out.storeBytes(of: p.signedPrekeyID.bigEndian, toByteOffset: base, as: UInt32.self)
                p.signedPrekey.withUnsafeScalar { UnsafeMutableRawBufferPointer(rebasing: out[(base + 4)..<(base + 36)]).copyMemory(from: $0) }
                out.storeBytes(of: p.pqPrekeyID.bigEndian, toByteOffset: base + 36, as: UInt32.self)
                p.pqPrekey.seed().withUnsafeBytes {
                    UnsafeMutableRawBufferPointer(rebasing: out[(base + 40)..<(base + length - 8)]).copyMemory(from: $0)
                }
                out.storeBytes(of: entry.retireAfter.bigEndian, toByteOffset: base + length - 8, as: Int64.self)
            }
        }
    }

    init(storageBytes secret: SecureBytes) throws {
        let length = Self.storageEntryLength
        guard secret.count % length == 0 else { throw ClientError.storage("stored prekeys have the wrong size") }
        var entries: [Entry] = []
        for offset in stride(from: 0, to: secret.count, by: length) {
            let numbers = secret.withUnsafeBytes { raw in
                (UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)),
                 UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 36, as: UInt32.self)),
                 Int64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + length - 8, as: Int64.self)))
            }
            let prekeys = SessionSetup.Prekeys(
                signedPrekeyID: numbers.0, signedPrekey: try AgreementPrivateKey(secret: secret.slice((offset + 4)..<(offset + 36))),
                pqPrekeyID: numbers.1, pqPrekey: try KEMPrivateKey(seed: secret.slice((offset + 40)..<(offset + length - 8))))
            entries.append(Entry(prekeys: prekeys, retireAfter: numbers.2))
        }
        self.init(entries: entries)
    }
}

extension MailboxKey {
    /// Per key: relay ID (32) | Ed25519 seed (32).
    static func storageBytes(_ keys: [MailboxKey]) -> SecureBytes {
        SecureBytes(count: keys.count * 64) { out in
            for (i, entry) in keys.enumerated() {
                entry.relayID.rawValue.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[(i * 64)..<(i * 64 + 32)]).copyMemory(from: $0) }
                entry.key.seed().withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[(i * 64 + 32)..<(i * 64 + 64)]).copyMemory(from: $0) }
            }
        }
    }

    static func list(storageBytes secret: SecureBytes) throws -> [MailboxKey] {
        guard secret.count % 64 == 0 else { throw ClientError.storage("stored mailbox keys have the wrong size") }
        return try stride(from: 0, to: secret.count, by: 64).map { offset in
            MailboxKey(relayID: ID(rawValue: secret.withUnsafeBytes { Bytes32(copying: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + 32)])) }),
                       key: try SigningPrivateKey(seed: secret.slice((offset + 32)..<(offset + 64))))
        }
    }
}

extension SessionMessage.Setup {
    /// Card length (2) | card | initial message.
    var storageBytes: [UInt8] {
        var w = ByteWriter(capacity: 2 + card.encoded.count + InitialMessage.encodedLength)
        w.write(UInt16(card.encoded.count))
        w.write(card.encoded)
        w.write(initialMessage.encoded)
        return w.bytes
    }

    init(storageBytes bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        let cardLength = Int(try r.readUInt16())
        let card = try ContactCard.decode(try r.readBytes(cardLength))
        self.init(card: card, initialMessage: try InitialMessage.decode(r.readRest()))
    }
}

extension SecureBytes {
    /// A copy of `range`, itself secret.
    func slice(_ range: Range<Int>) -> SecureBytes {
        withUnsafeBytes { raw in SecureBytes(count: range.count) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[range])) } }
    }
}
