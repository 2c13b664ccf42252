public import SecIRCCrypto

/// The Signal Double Ratchet (https://signal.org/docs/specifications/doubleratchet/, revision 1,
/// without header encryption) over X25519, HMAC-BLAKE2b and XChaCha20-Poly1305.
///
/// **Setup.** Both parties start from a 32-byte shared secret SK (from the X3DH/PQXDH-style
/// session setup, DESIGN.md §4). The responder (Bob) holds a ratchet key pair whose public half
/// the initiator (Alice) already knows (his signed prekey):
/// - Alice: DHs = fresh key pair, DHr = Bob's key, `RK, CKs = KDF_RK(SK, DH(DHs, DHr))`.
/// - Bob: DHs = his key pair, RK = SK, no chains; he can send only after Alice's first message.
///
/// **Primitives** (see `RatchetKDF`): `KDF_RK` is HKDF over HMAC-BLAKE2b with the root key as
/// salt and `dh_out || "secIRC ratchet root v1"` as input; `KDF_CK` is HMAC-BLAKE2b(ck, 0x01)
/// for the 64-byte message key and HMAC-BLAKE2b(ck, 0x02) for the next chain key; a message is
/// sealed with XChaCha20-Poly1305 under key mk[0..<32] and nonce mk[32..<56].
///
/// **Messages.** `header (ratchet key 32 | PN 4 | N 4, big-endian) || ciphertext || tag`, with
/// associated data `caller AD || header` (the header is the last 40 bytes, so the split is
/// unambiguous).
///
/// **Deferred sending step.** `decrypt` takes no random source, so when a message carries a new
/// ratchet key only the receiving half of the DH ratchet runs at once
/// (`RK, CKr = KDF_RK(RK, DH(DHs, DHr))`); the next `encrypt` generates the new DHs and runs the
/// sending half (`PN = Ns; Ns = 0; RK, CKs = KDF_RK(RK, DH(DHs', DHr))`). The keys and messages
/// are exactly those of the specification's `DHRatchet`.
///
/// **Skipped keys.** A gap in a chain stores the message keys in between, keyed by
/// (ratchet key, N). At most `maxSkip` keys are skipped per chain step (a larger gap throws
/// `tooManySkipped`) and at most `maxStoredSkippedKeys` are kept in all (the oldest go first).
/// A message number already used throws `duplicate`; a message from an older chain whose key
/// is gone fails authentication.
///
/// **Failure leaves no trace.** `decrypt` works on a copy and commits it only once the message
/// has authenticated, so forged, replayed or corrupted input never changes the state.
///
/// A value type: not safe to mutate from two tasks at once; the owner serialises access and
/// persists `serialized()` after each successful operation.
public struct DoubleRatchet: Sendable {
    /// Most message keys one header may make the receiver skip in one chain (spec `MAX_SKIP`).
    public static let maxSkip = 1000
    /// Most skipped message keys kept across all chains; beyond this the oldest are evicted.
    public static let maxStoredSkippedKeys = 2000

    var rootKey: SymmetricKey
    /// DHs: our current ratchet key pair.
    var sendingRatchetKey: AgreementPrivateKey
    /// DHr: the peer's current ratchet public key.
    var receivingRatchetKey: AgreementPublicKey?
    /// CKs, CKr.
    var sendingChainKey: SymmetricKey?
    var receivingChainKey: SymmetricKey?
    /// Ns, Nr, PN.
    var sendCount: UInt32 = 0
    var receiveCount: UInt32 = 0
    var previousSendCount: UInt32 = 0
    /// A new DHr arrived: the next `encrypt` generates DHs and starts a sending chain.
    var sendingStepPending = false
    var skipped = SkippedMessageKeys(capacity: maxStoredSkippedKeys)

    /// Alice's side: `sharedSecret` from session setup and Bob's ratchet (signed prekey) public
    /// key. Throws `invalidRatchetKey` for a low-order `remoteRatchetKey`.
    public init(initiatorWith sharedSecret: SymmetricKey, remoteRatchetKey: AgreementPublicKey,
                rng: inout some RandomSource) throws(RatchetError) {
        rootKey = sharedSecret
        sendingRatchetKey = AgreementPrivateKey(using: &rng)
        receivingRatchetKey = remoteRatchetKey
        (rootKey, sendingChainKey) = RatchetKDF.rootStep(
            rootKey: sharedSecret, dhOutput: try Self.agree(sendingRatchetKey, remoteRatchetKey))
    }

    /// Bob's side: `sharedSecret` from session setup and the key pair Alice used as his ratchet key.
    public init(responderWith sharedSecret: SymmetricKey, ratchetKeyPair: AgreementPrivateKey) {
        rootKey = sharedSecret
        sendingRatchetKey = ratchetKeyPair
    }

    /// Our current ratchet public key (sent in the next header unless a step is pending).
    public var ratchetPublicKey: AgreementPublicKey { sendingRatchetKey.publicKey }

    /// Number of skipped message keys held for late messages.
    public var skippedKeyCount: Int { skipped.count }

    /// Whether `encrypt` can be called (false for the responder before the first message).
    public var canSend: Bool { sendingChainKey != nil || sendingStepPending }

    // MARK: Encrypt

    /// Encrypts `plaintext`, authenticating `associatedData || header` with it. `rng` is used
    /// only when a DH ratchet step is due. Throws `noSendingChain` for a responder that has not
    /// received yet, `chainExhausted` after 2³² − 1 messages in one chain.
    public mutating func encrypt(_ plaintext: [UInt8], associatedData: [UInt8],
                                 rng: inout some RandomSource) throws(RatchetError) -> RatchetMessage {
        var next = self
        if next.sendingStepPending { try next.sendingRatchetStep(rng: &rng) }
        guard let chainKey = next.sendingChainKey else { throw .noSendingChain }
        guard next.sendCount < UInt32.max else { throw .chainExhausted }
        let header = RatchetHeader(ratchetKey: next.sendingRatchetKey.publicKey,
                                   previousChainLength: next.previousSendCount, messageNumber: next.sendCount)
        let (messageKey, nextChainKey) = RatchetKDF.chainStep(chainKey)
        next.sendingChainKey = nextChainKey
        next.sendCount += 1
        let ciphertext = RatchetKDF.seal(plaintext, messageKey: messageKey,
                                         associatedData: associatedData + header.encoded)
        self = next
        return RatchetMessage(header: header, ciphertext: ciphertext)
    }

    // MARK: Decrypt

    /// Authenticates and decrypts `message`. On any error the state is unchanged.
    public mutating func decrypt(_ message: RatchetMessage, associatedData: [UInt8]) throws(RatchetError) -> [UInt8] {
        let header = message.header
        let ad = associatedData + header.encoded
        var next = self

        let index = SkippedMessageKeys.Index(ratchetKey: header.ratchetKey, messageNumber: header.messageNumber)
        if let messageKey = next.skipped.remove(index) {
            let plaintext = try RatchetKDF.open(message.ciphertext, messageKey: messageKey, associatedData: ad)
            self = next
            return plaintext
        }

        if header.ratchetKey != next.receivingRatchetKey {
            try next.skipMessageKeys(until: header.previousChainLength)
            try next.receivingRatchetStep(remoteKey: header.ratchetKey)
        }
        guard header.messageNumber >= next.receiveCount else { throw .duplicate }
        guard header.messageNumber < UInt32.max else { throw .chainExhausted }
        try next.skipMessageKeys(until: header.messageNumber)
        guard let chainKey = next.receivingChainKey else { throw .authenticationFailed }
        let (messageKey, nextChainKey) = RatchetKDF.chainStep(chainKey)
        let plaintext = try RatchetKDF.open(message.ciphertext, messageKey: messageKey, associatedData: ad)
        next.receivingChainKey = nextChainKey
        next.receiveCount = header.messageNumber + 1
        self = next
        return plaintext
    }

    /// Decodes wire bytes and decrypts them; malformed input fails authentication.
    public mutating func decrypt(_ encoded: [UInt8], associatedData: [UInt8]) throws(RatchetError) -> [UInt8] {
        guard let message = try? RatchetMessage.decode(encoded) else { throw .authenticationFailed }
        return try decrypt(message, associatedData: associatedData)
    }

    // MARK: Steps

    /// Stores the receiving chain's keys for messages `Nr ..< until`.
    private mutating func skipMessageKeys(until: UInt32) throws(RatchetError) {
        guard var chainKey = receivingChainKey, let ratchetKey = receivingRatchetKey else { return }
        guard Int(until) - Int(receiveCount) <= Self.maxSkip else { throw .tooManySkipped }
        while receiveCount < until {
            let (messageKey, nextChainKey) = RatchetKDF.chainStep(chainKey)
            skipped.insert(messageKey, for: .init(ratchetKey: ratchetKey, messageNumber: receiveCount))
            chainKey = nextChainKey
            receiveCount += 1
        }
        receivingChainKey = chainKey
    }

    /// The receiving half of `DHRatchet`: a new peer key starts a new receiving chain.
    private mutating func receivingRatchetStep(remoteKey: AgreementPublicKey) throws(RatchetError) {
        let dhOutput = try Self.agree(sendingRatchetKey, remoteKey)
        receivingRatchetKey = remoteKey
        receiveCount = 0
        (rootKey, receivingChainKey) = RatchetKDF.rootStep(rootKey: rootKey, dhOutput: dhOutput)
        sendingStepPending = true
    }

    /// The sending half of `DHRatchet`, deferred to the first `encrypt` after a receiving step.
    private mutating func sendingRatchetStep(rng: inout some RandomSource) throws(RatchetError) {
        guard let remoteKey = receivingRatchetKey else { throw .noSendingChain }
        let newKey = AgreementPrivateKey(using: &rng)
        let dhOutput = try Self.agree(newKey, remoteKey)
        previousSendCount = sendCount
        sendCount = 0
        sendingRatchetKey = newKey
        (rootKey, sendingChainKey) = RatchetKDF.rootStep(rootKey: rootKey, dhOutput: dhOutput)
        sendingStepPending = false
    }

    private static func agree(_ privateKey: AgreementPrivateKey, _ publicKey: AgreementPublicKey) throws(RatchetError) -> SecureBytes {
        do { return try privateKey.sharedSecret(with: publicKey) } catch { throw .invalidRatchetKey }
    }
}
