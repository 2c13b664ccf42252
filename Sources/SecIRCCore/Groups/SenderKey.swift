public import SecIRCCrypto

/// Group sender keys (issue 13, a building block not yet on the wire): each member of a group
/// encrypts a message once, under a forward-ratcheting chain of its own, and signs it with a
/// key of that chain; the other members, given the chain's state in a ``SenderKeyDistribution``
/// (sent inside their pairwise sessions), check the signature and decrypt. Keys come from the
/// Double Ratchet's chain step (``RatchetKDF/chainStep(_:)``: HMAC-BLAKE2b, XChaCha20-Poly1305):
///
/// ```
/// mk_i, ck_(i+1) = KDF_CK(ck_i)
/// message  = 0x01 | group ID (32) | chain ID (4) | iteration i (4) | AEAD(mk_i, plaintext, AD: the 41 bytes before it) | signature (64)
/// signature = Ed25519(chain signing key, every byte before it)
/// ```
///
/// The iteration is the sender's sequence number. A member that sees iteration i before the
/// ones below it keeps their keys (at most ``SenderKeyReceiver/maxSkip`` ahead, at most
/// ``SenderKeyReceiver/skippedCapacity`` kept) and deletes each key once used, so a message
/// decrypts once and an old chain key cannot be recovered from a newer one.
public enum SenderKeyFormat {
    public static let version: UInt8 = 1
    /// version | group ID | chain ID | iteration: the AEAD's associated data.
    public static let headerLength = 1 + 32 + 4 + 4
    /// Header, the AEAD tag and the signature: a message's length beyond its plaintext.
    public static let overhead = headerLength + 16 + Signature.byteCount
}

/// Why a sender-key message was not decrypted (the receiver's state did not change).
public enum SenderKeyError: Error, Equatable, Sendable {
    /// Another group or another chain (a member's older or newer chain).
    case wrongChain
    /// The signature is not the chain's.
    case badSignature
    /// An iteration already decrypted, or one whose key was let go.
    case duplicate
    /// More than ``SenderKeyReceiver/maxSkip`` iterations ahead of the next expected.
    case tooFarAhead
    /// The AEAD did not verify.
    case authenticationFailed
    /// The chain used its last iteration.
    case chainExhausted
}

/// A sender-key message as sent.
public struct SenderKeyMessage: Equatable, Sendable {
    public let groupID: Bytes32
    public let chainID: UInt32
    public let iteration: UInt32
    /// Ciphertext || tag.
    public let ciphertext: [UInt8]
    public let signature: Signature

    /// The bytes the signature covers (everything before it); the header part is the AEAD's
    /// associated data.
    var header: [UInt8] { Self.header(groupID: groupID, chainID: chainID, iteration: iteration) }

    static func header(groupID: Bytes32, chainID: UInt32, iteration: UInt32) -> [UInt8] {
        var w = ByteWriter(capacity: SenderKeyFormat.headerLength)
        w.write(SenderKeyFormat.version)
        w.write(groupID)
        w.write(chainID)
        w.write(iteration)
        return w.bytes
    }

    public var encoded: [UInt8] { header + ciphertext + signature.bytes }

    /// Parses a message of at most `maxPlaintext` plaintext bytes. Throws ``DecodeError`` for a
    /// short, long or unknown-version input; checks nothing cryptographic.
    public static func decode(_ bytes: [UInt8], maxPlaintext: Int) throws(DecodeError) -> SenderKeyMessage {
        let minimum = SenderKeyFormat.overhead
        guard bytes.count >= minimum else { throw .incomplete(deficit: minimum - bytes.count) }
        guard bytes.count <= minimum + maxPlaintext else { throw .trailingBytes(count: bytes.count - minimum - maxPlaintext) }
        var r = ByteReader(bytes)
        let (groupID, chainID, iteration) = try readHeader(&r, of: "sender-key message")
        let ciphertext = Array(bytes[SenderKeyFormat.headerLength..<(bytes.count - Signature.byteCount)])
        guard let signature = try? Signature(bytes: Array(bytes.suffix(Signature.byteCount))) else {
            throw .invalidValue("sender-key message signature") // unreachable: 64 bytes by the length check
        }
        return SenderKeyMessage(groupID: groupID, chainID: chainID, iteration: iteration, ciphertext: ciphertext, signature: signature)
    }

    /// version (which must be ours) | group ID | chain ID | iteration, from a reader whose input
    /// is known to hold at least ``SenderKeyFormat/headerLength`` bytes.
    static func readHeader(_ r: inout ByteReader, of what: String) throws(DecodeError) -> (Bytes32, UInt32, UInt32) {
        do {
            let version = try r.readUInt8()
            guard version == SenderKeyFormat.version else { throw DecodeError.invalidValue("\(what) version \(version)") }
            return (try r.readBytes32(), try r.readUInt32(), try r.readUInt32())
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("\(what): \(error)") // unreachable: the caller checked the length
        }
    }
}

/// What a member hands each other member (inside their pairwise session) so they can read its
/// messages from `iteration` on: 1 | group ID (32) | chain ID (4) | iteration (4) | chain key (32)
/// | signing public key (32) = 105 bytes.
public struct SenderKeyDistribution: Equatable, Sendable {
    public static let encodedLength = 105
    public let groupID: Bytes32
    public let chainID: UInt32
    public let iteration: UInt32
    public let chainKey: SymmetricKey
    public let signingKey: SigningPublicKey

    public init(groupID: Bytes32, chainID: UInt32, iteration: UInt32, chainKey: SymmetricKey, signingKey: SigningPublicKey) {
        self.groupID = groupID
        self.chainID = chainID
        self.iteration = iteration
        self.chainKey = chainKey
        self.signingKey = signingKey
    }

    /// The wire bytes (they hold the chain key: send them only inside an encrypted session).
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: Self.encodedLength)
        w.write(SenderKeyFormat.version)
        w.write(groupID)
        w.write(chainID)
        w.write(iteration)
        chainKey.withUnsafeBytes { w.write($0) }
        w.write(signingKey.rawValue)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> SenderKeyDistribution {
        guard bytes.count >= encodedLength else { throw .incomplete(deficit: encodedLength - bytes.count) }
        guard bytes.count == encodedLength else { throw .trailingBytes(count: bytes.count - encodedLength) }
        var r = ByteReader(bytes)
        let (groupID, chainID, iteration) = try SenderKeyMessage.readHeader(&r, of: "sender-key distribution")
        let keys = r.readRest()
        guard let chainKey = try? SymmetricKey(bytes: Array(keys.prefix(SymmetricKey.byteCount))),
              let signingKey = try? SigningPublicKey(bytes: Array(keys.dropFirst(SymmetricKey.byteCount))) else {
            throw .invalidValue("sender-key distribution keys") // unreachable: 32 + 32 bytes by the length check
        }
        return SenderKeyDistribution(groupID: groupID, chainID: chainID, iteration: iteration, chainKey: chainKey, signingKey: signingKey)
    }
}

/// A member's own sending chain in one group.
public struct SenderKeyChain: Sendable {
    public let groupID: Bytes32
    public let chainID: UInt32
    public internal(set) var iteration: UInt32 = 0
    var chainKey: SymmetricKey
    let signing: SigningPrivateKey

    /// A fresh chain: random chain ID, chain key and signing key.
    public init(groupID: Bytes32, using rng: inout some RandomSource) {
        self.groupID = groupID
        chainID = rng.bytes(4).reduce(0) { $0 << 8 | UInt32($1) }
        chainKey = SymmetricKey(using: &rng)
        signing = SigningPrivateKey(using: &rng)
    }

    /// The chain's signing key over `"secIRC group chain owner v1" | body`: what binds the chain
    /// to the member announcing it (``GroupChain``); nothing else is signed with that label.
    public func ownership(of body: [UInt8]) -> Signature { signing.sign(GroupChain.ownerLabel + body) }

    /// What another member needs to read this chain's messages from the next one on.
    public var distribution: SenderKeyDistribution {
        SenderKeyDistribution(groupID: groupID, chainID: chainID, iteration: iteration, chainKey: chainKey, signingKey: signing.publicKey)
    }

    /// Encrypts and signs `plaintext` as the next iteration; the chain key moves on (the old
    /// one is gone).
    public mutating func encrypt(_ plaintext: [UInt8]) throws(SenderKeyError) -> SenderKeyMessage {
        guard iteration < UInt32.max else { throw .chainExhausted }
        let (messageKey, next) = RatchetKDF.chainStep(chainKey)
        let header = SenderKeyMessage.header(groupID: groupID, chainID: chainID, iteration: iteration)
        let ciphertext = RatchetKDF.seal(plaintext, messageKey: messageKey, associatedData: header)
        let signature = signing.sign(header + ciphertext)
        let message = SenderKeyMessage(groupID: groupID, chainID: chainID, iteration: iteration, ciphertext: ciphertext, signature: signature)
        chainKey = next
        iteration += 1
        return message
    }
}

/// Another member's chain, as this member reads it.
public struct SenderKeyReceiver: Sendable {
    /// The farthest ahead of the next expected iteration a message may be.
    public static let maxSkip: UInt32 = 1000
    /// Keys of skipped iterations kept at most (the oldest go first).
    public static let skippedCapacity = 2000

    public let groupID: Bytes32
    public let chainID: UInt32
    public let signingKey: SigningPublicKey
    /// The next iteration the chain key is at.
    public internal(set) var next: UInt32
    var chainKey: SymmetricKey
    var skipped: [UInt32: SecureBytes] = [:]
    /// The iterations in `skipped`, oldest first (the first to go at ``skippedCapacity``).
    var skippedOrder: [UInt32] = []

    public init(_ distribution: SenderKeyDistribution) {
        groupID = distribution.groupID
        chainID = distribution.chainID
        signingKey = distribution.signingKey
        next = distribution.iteration
        chainKey = distribution.chainKey
    }

    /// Keys kept for iterations skipped so far.
    public var skippedCount: Int { skipped.count }

    /// Checks the signature, then decrypts; on any failure nothing changes.
    public mutating func decrypt(_ message: SenderKeyMessage) throws(SenderKeyError) -> [UInt8] {
        guard message.groupID == groupID, message.chainID == chainID else { throw .wrongChain }
        let header = message.header
        guard (try? signingKey.verify(message.signature, for: header + message.ciphertext)) != nil else { throw .badSignature }
        if message.iteration < next {
            guard let key = skipped[message.iteration] else { throw .duplicate }
            let plaintext = try open(message.ciphertext, key, header)
            skipped[message.iteration] = nil
            skippedOrder.removeAll { $0 == message.iteration }
            return plaintext
        }
        guard message.iteration < UInt32.max else { throw .chainExhausted } // never sent: the last iteration is max − 1
        guard message.iteration - next <= Self.maxSkip else { throw .tooFarAhead }
        // Walk a copy of the chain to the message; commit only once it decrypted.
        var key = chainKey
        var passed: [(UInt32, SecureBytes)] = []
        var step = next
        while step < message.iteration {
            let (messageKey, following) = RatchetKDF.chainStep(key)
            passed.append((step, messageKey))
            key = following
            step += 1
        }
        let (messageKey, following) = RatchetKDF.chainStep(key)
        let plaintext = try open(message.ciphertext, messageKey, header)
        for (iteration, skippedKey) in passed {
            skipped[iteration] = skippedKey
            skippedOrder.append(iteration)
        }
        let excess = skippedOrder.count - Self.skippedCapacity
        if excess > 0 {
            for old in skippedOrder[0..<excess] { skipped[old] = nil }
            skippedOrder.removeFirst(excess)
        }
        chainKey = following
        next = message.iteration &+ 1
        return plaintext
    }

    private func open(_ ciphertext: [UInt8], _ key: SecureBytes, _ header: [UInt8]) throws(SenderKeyError) -> [UInt8] {
        do { return try RatchetKDF.open(ciphertext, messageKey: key, associatedData: header) } catch { throw .authenticationFailed }
    }
}
