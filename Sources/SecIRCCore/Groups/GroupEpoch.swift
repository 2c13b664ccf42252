public import SecIRCCrypto

/// One epoch of a group's shared secret (issue 13): what every current member holds, replaced
/// whenever the roster gains or loses a member. The keys of the group channel come from it:
///
/// ```
/// mailbox key  = Ed25519 key from seed KDF(secret, id 1, "secIRCgr")   (the group mailbox: its ID is SHA-256 of the public key)
/// sealing key  = X25519 key      KDF(secret, id 2, "secIRCgr")         (deposits are sealed packets to it, §7.5)
/// control key  = KDF(secret, id 3, "secIRCgr")                          (a new epoch's secret on a join)
/// ```
///
/// KDF is libsodium's `crypto_kdf_derive_from_key` (BLAKE2b), 32 bytes each. A new epoch has a new
/// mailbox: a member that left cannot even fetch what is posted after it.
public struct GroupEpoch: Sendable {
    public static let kdfContext = "secIRCgr"

    public let number: UInt32
    let secret: SymmetricKey
    /// The group mailbox's key (derived once: each read of the channel uses the sealing key).
    public let mailboxKey: SigningPrivateKey
    public let sealingKey: AgreementPrivateKey
    public let controlKey: SymmetricKey

    public init(number: UInt32, secret: SymmetricKey) {
        self.number = number
        self.secret = secret
        func derive(_ id: UInt64) -> SecureBytes {
            try! KDF.derive(from: secret, id: id, context: Self.kdfContext) // 8-byte context, 32-byte output: cannot throw
        }
        mailboxKey = try! SigningPrivateKey(seed: derive(1)) // 32 bytes
        sealingKey = try! AgreementPrivateKey(secret: derive(2)) // 32 bytes
        controlKey = try! SymmetricKey(secret: derive(3)) // 32 bytes
    }

    /// A fresh epoch secret.
    public init(number: UInt32, using rng: inout some RandomSource) {
        self.init(number: number, secret: SymmetricKey(using: &rng))
    }

    /// The group mailbox's ID (its address for deposits and fetches) in this epoch.
    public var mailboxID: Bytes32 { mailboxKey.publicKey.id.rawValue }
    /// Whether two epochs hold the same secret (constant time).
    public func hasSameSecret(as other: GroupEpoch) -> Bool { secret == other.secret }
}

/// Why a rekey was not taken (nothing changed).
public enum GroupRekeyError: Error, Equatable, Sendable {
    /// For another group or another roster than the one given.
    case wrongRoster
    /// Its author is not an admin of that roster.
    case notAllowed
    case badSignature
    /// The opener is not a member of that roster, or (sealed under the previous epoch) holds no
    /// previous epoch of that number.
    case notForMe
    /// The sealed secret did not decrypt.
    case authenticationFailed
}

/// A new epoch secret, handed to the members of a roster by an admin (issue 13). When the roster
/// only gained members, the secret is sealed under the previous epoch's control key — everyone
/// who stays holds it, and the joiners get the new secret in their invitation; when it lost
/// one, it is sealed to each remaining member's X25519 key, so the one who left cannot read it.
///
/// ```
/// rekey  = 0x01 | group ID (32) | epoch (4) | roster serial (8) | roster hash (32) | mode (1)
///          | mode 0: nonce (24) | XChaCha20-Poly1305(previous control key, secret (32), AD: the 78 bytes before)
///          | mode 1: E (32) | count (2) | box (48) × count, one per member in ascending Ed25519 order
///          | author (32) | signature (64)
/// box_i  = XChaCha20-Poly1305(k_i, nonce n_i, secret, AD: the 78 bytes), where
///          k_i (32) | n_i (24) = BLAKE2b-448("secIRC group rekey v1" | X25519(e, X_i) | E | X_i)
/// signature = Ed25519(author, "secIRC group rekey v1" | every byte before it)
/// ```
public struct GroupRekey: Hashable, Sendable {
    public static let version: UInt8 = 1
    public static let label = Array("secIRC group rekey v1".utf8)
    /// version | group ID | epoch | roster serial | roster hash | mode.
    public static let headerLength = 1 + 32 + 4 + 8 + 32 + 1
    public static let boxLength = 32 + XChaCha20Poly1305.tagByteCount

    public enum Sealing: Hashable, Sendable {
        /// Mode 0: nonce | ciphertext of the secret under the previous epoch's control key.
        case underPrevious(nonce: [UInt8], ciphertext: [UInt8])
        /// Mode 1: an ephemeral X25519 key and one box per member.
        case perMember(ephemeral: AgreementPublicKey, boxes: [[UInt8]])
    }

    public let groupID: Bytes32
    public let epoch: UInt32
    public let rosterSerial: UInt64
    public let rosterHash: Bytes32
    public let sealing: Sealing
    public let author: SigningPublicKey
    public let signature: Signature

    /// Hands `epoch` to the members of `roster`: under `previous` when given (the roster only
    /// gained members since it), else sealed to each member. Signed by `author`, an admin.
    public static func make(_ epoch: GroupEpoch, for roster: GroupRoster, previous: GroupEpoch?, author: SigningPrivateKey,
                            rng: inout some RandomSource) -> GroupRekey {
        let header = Self.header(groupID: roster.groupID.rawValue, epoch: epoch.number, serial: roster.serial, hash: roster.hash,
                                 mode: previous == nil ? 1 : 0)
        var secret = epoch.secret.withUnsafeBytes { Array($0) }
        defer { Self.wipe(&secret) }
        let sealing: Sealing
        if let previous {
            let nonce = rng.bytes(XChaCha20Poly1305.nonceByteCount)
            sealing = .underPrevious(nonce: nonce, ciphertext: try! XChaCha20Poly1305.seal(secret, key: previous.controlKey, nonce: nonce,
                                                                                        associatedData: header))
        } else {
            let ephemeral = AgreementPrivateKey(using: &rng)
            let boxes = Self.recipients(of: roster).map { recipient -> [UInt8] in
                let (key, nonce) = boxKey(ephemeral: ephemeral, recipient: recipient)
                return try! XChaCha20Poly1305.seal(secret, key: key, nonce: nonce, associatedData: header)
            }
            sealing = .perMember(ephemeral: ephemeral.publicKey, boxes: boxes)
        }
        let body = Self.body(header: header, sealing: sealing, author: author.publicKey)
        return GroupRekey(groupID: roster.groupID.rawValue, epoch: epoch.number, rosterSerial: roster.serial, rosterHash: roster.hash,
                          sealing: sealing, author: author.publicKey, signature: author.sign(label + body))
    }

    /// Whether an admin of some roster could have signed it: the author's signature only (the
    /// roster is checked by ``open(as:agreement:roster:previous:)``). Held rekeys must pass it.
    public var signatureIsValid: Bool { (try? author.verify(signature, for: Self.label + body)) != nil }

    /// The new epoch, for `member` of `roster` (whose X25519 private key is `agreement`), checked
    /// against that roster: its ID, serial and hash, an admin's signature; then decrypted.
    public func open(as member: SigningPublicKey, agreement: AgreementPrivateKey, roster: GroupRoster,
                     previous: GroupEpoch?) throws(GroupRekeyError) -> GroupEpoch {
        guard groupID == roster.groupID.rawValue, rosterSerial == roster.serial, rosterHash == roster.hash else { throw .wrongRoster }
        guard roster.members[author] == .admin else { throw .notAllowed }
        guard (try? author.verify(signature, for: Self.label + body)) != nil else { throw .badSignature }
        let header = self.header
        let plaintext: [UInt8]?
        switch sealing {
        case let .underPrevious(nonce, ciphertext):
            guard let previous, previous.number &+ 1 == epoch, roster.members[member] != nil else { throw .notForMe }
            plaintext = try? XChaCha20Poly1305.open(ciphertext, key: previous.controlKey, nonce: nonce, associatedData: header)
        case let .perMember(ephemeral, boxes):
            let recipients = Self.recipients(of: roster)
            guard boxes.count == recipients.count, let index = recipients.firstIndex(where: { $0.signing == member }),
                  recipients[index].agreement == agreement.publicKey else { throw .notForMe }
            guard let shared = try? agreement.sharedSecret(with: ephemeral) else { throw .authenticationFailed }
            let (key, nonce) = Self.boxKey(shared: shared, ephemeral: ephemeral, recipient: recipients[index].agreement)
            plaintext = try? XChaCha20Poly1305.open(boxes[index], key: key, nonce: nonce, associatedData: header)
        }
        guard var plaintext else { throw .authenticationFailed }
        defer { Self.wipe(&plaintext) }
        guard let secret = try? SymmetricKey(secret: SecureBytes(plaintext)) else { throw .authenticationFailed }
        return GroupEpoch(number: epoch, secret: secret)
    }

    /// The members of `roster` in box order: ascending Ed25519 key bytes.
    static func recipients(of roster: GroupRoster) -> [GroupIdentity] {
        roster.members.keys.sorted { $0.rawValue.lexicographicallyPrecedes($1.rawValue) }
            .map { GroupIdentity(signing: $0, agreement: roster.agreementKeys[$0]!) }
    }

    private static func boxKey(ephemeral: AgreementPrivateKey, recipient: GroupIdentity) -> (SymmetricKey, [UInt8]) {
        // A low-order recipient key gives zeros: still a key only the sender knows, and that
        // member (who chose such a key) reads nothing.
        let shared = (try? ephemeral.sharedSecret(with: recipient.agreement)) ?? SecureBytes(count: 32) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        return boxKey(shared: shared, ephemeral: ephemeral.publicKey, recipient: recipient.agreement)
    }

    private static func boxKey(shared: SecureBytes, ephemeral: AgreementPublicKey, recipient: AgreementPublicKey) -> (SymmetricKey, [UInt8]) {
        let tail = ephemeral.bytes + recipient.bytes
        let input = shared.withUnsafeBytes { dh in
            SecureBytes(count: label.count + dh.count + tail.count) { out in
                out.copyBytes(from: label)
                UnsafeMutableRawBufferPointer(rebasing: out[label.count...]).copyMemory(from: dh)
                UnsafeMutableRawBufferPointer(rebasing: out[(label.count + dh.count)...]).copyBytes(from: tail)
            }
        }
        let output = SecureBytes(count: 56) { out in input.withUnsafeBytes { BLAKE2b.hash($0, key: nil, into: out) } }
        return output.withUnsafeBytes { o in
            (try! SymmetricKey(secret: SecureBytes(count: 32) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: o[0..<32])) }),
             Array(o[32..<56])) // 32 + 24 bytes by construction
        }
    }

    /// Overwrites a transient copy of a secret (best effort: the AEAD API takes arrays).
    private static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }

    static func header(groupID: Bytes32, epoch: UInt32, serial: UInt64, hash: Bytes32, mode: UInt8) -> [UInt8] {
        var w = ByteWriter(capacity: headerLength)
        w.write(version)
        w.write(groupID)
        w.write(epoch)
        w.write(serial)
        w.write(hash)
        w.write(mode)
        return w.bytes
    }

    private var header: [UInt8] {
        Self.header(groupID: groupID, epoch: epoch, serial: rosterSerial, hash: rosterHash, mode: sealing.mode)
    }

    private static func body(header: [UInt8], sealing: Sealing, author: SigningPublicKey) -> [UInt8] {
        var w = ByteWriter()
        w.write(header)
        switch sealing {
        case let .underPrevious(nonce, ciphertext):
            w.write(nonce)
            w.write(ciphertext)
        case let .perMember(ephemeral, boxes):
            w.write(ephemeral.rawValue)
            w.write(UInt16(boxes.count))
            for box in boxes { w.write(box) }
        }
        w.write(author.rawValue)
        return w.bytes
    }

    private var body: [UInt8] { Self.body(header: header, sealing: sealing, author: author) }

    public var encoded: [UInt8] { body + signature.bytes }

    /// Parses untrusted bytes: one version, mode 0 or 1, at most 1,000 boxes of 48 bytes, nothing
    /// after the signature. Checks nothing cryptographic.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupRekey {
        var r = ByteReader(bytes)
        do {
            let version = try r.readUInt8()
            guard version == Self.version else { throw DecodeError.invalidValue("group rekey version \(version)") }
            let groupID = try r.readBytes32()
            let epoch = try r.readUInt32()
            let serial = try r.readUInt64()
            let hash = try r.readBytes32()
            let mode = try r.readUInt8()
            let sealing: Sealing
            switch mode {
            case 0:
                sealing = .underPrevious(nonce: try r.readBytes(XChaCha20Poly1305.nonceByteCount), ciphertext: try r.readBytes(boxLength))
            case 1:
                let ephemeral = AgreementPublicKey(rawValue: try r.readBytes32())
                let count = Int(try r.readUInt16())
                guard count <= Int(GroupRoster.maxMembers) else { throw DecodeError.invalidValue("group rekey with \(count) boxes") }
                var boxes: [[UInt8]] = []
                for _ in 0..<count { boxes.append(try r.readBytes(boxLength)) }
                sealing = .perMember(ephemeral: ephemeral, boxes: boxes)
            default:
                throw DecodeError.invalidValue("group rekey mode \(mode)")
            }
            let author = SigningPublicKey(rawValue: try r.readBytes32())
            let signature = try Signature(bytes: r.readBytes(Signature.byteCount))
            guard r.remaining == 0 else { throw DecodeError.trailingBytes(count: r.remaining) }
            return GroupRekey(groupID: groupID, epoch: epoch, rosterSerial: serial, rosterHash: hash, sealing: sealing,
                              author: author, signature: signature)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group rekey: \(error)")
        }
    }
}

extension GroupRekey.Sealing {
    var mode: UInt8 {
        switch self {
        case .underPrevious: 0
        case .perMember: 1
        }
    }
}
