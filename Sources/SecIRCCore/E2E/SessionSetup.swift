public import SecIRCCrypto

/// PQXDH-like initial key agreement (DESIGN.md §4), then the Double Ratchet.
///
/// Bob (responder) publishes an `Invite`: IK_B (X25519 identity key), SPK_B (X25519 signed
/// prekey), PQPK_B (ML-KEM-768 prekey), all signed by his Ed25519 identity key. Alice
/// (initiator) has IK_A (X25519 identity key) and makes EK_A (ephemeral):
/// ```
/// DH1 = DH(IK_A, SPK_B)   DH2 = DH(EK_A, IK_B)   DH3 = DH(EK_A, SPK_B)
/// (ct, SS) = ML-KEM-768.Encaps(PQPK_B)
/// ck  = "secIRC PQXDH v1" padded with zeros to 64 bytes
/// (o1, _) = NoiseHKDF(ck, 0xFF×32 || DH1 || DH2 || DH3 || SS)      // HMAC-BLAKE2b HKDF
/// SK  = o1[0..<32]
/// ```
/// Alice sends `InitialMessage(IK_A, EK_A, SPK ID, PQPK ID, ct)` with her first ratchet
/// message. Alice starts `DoubleRatchet(initiatorWith: SK, remoteRatchetKey: SPK_B)`, Bob
/// `DoubleRatchet(responderWith: SK, ratchetKeyPair: SPK_B)`. Every ratchet message of the
/// session uses associated data `AD = IK_A || IK_B` (`associatedData(initiator:responder:)`).
///
/// What this does not do: bind IK_A to Alice's Ed25519 identity (the caller must know IK_A
/// belongs to her, e.g. from her own invite), prevent replay of the initial message (Bob should
/// retire one-time use of prekeys or remember initial messages), or one-time prekeys (no DH4).
/// ML-KEM encapsulation randomness comes from the system CSPRNG (swift-crypto has no seeded form).
public enum SessionSetup {
    /// KDF label.
    public static let label = Array("secIRC PQXDH v1".utf8)

    /// A long-term identity: Ed25519 to sign invites, X25519 for session setup.
    public struct Identity: Sendable {
        public let signing: SigningPrivateKey
        public let agreement: AgreementPrivateKey

        public init(signing: SigningPrivateKey, agreement: AgreementPrivateKey) {
            self.signing = signing
            self.agreement = agreement
        }

        public init(using rng: inout some RandomSource) {
            signing = SigningPrivateKey(using: &rng)
            agreement = AgreementPrivateKey(using: &rng)
        }
    }

    /// The private halves of the prekeys an invite publishes.
    public struct Prekeys: Sendable {
        public let signedPrekeyID: UInt32
        public let signedPrekey: AgreementPrivateKey
        public let pqPrekeyID: UInt32
        public let pqPrekey: KEMPrivateKey

        public init(signedPrekeyID: UInt32, signedPrekey: AgreementPrivateKey, pqPrekeyID: UInt32, pqPrekey: KEMPrivateKey) {
            self.signedPrekeyID = signedPrekeyID
            self.signedPrekey = signedPrekey
            self.pqPrekeyID = pqPrekeyID
            self.pqPrekey = pqPrekey
        }

        /// Fresh prekeys from `rng` (deterministic for a `SeededRandom`).
        public init(signedPrekeyID: UInt32, pqPrekeyID: UInt32, using rng: inout some RandomSource) {
            self.init(signedPrekeyID: signedPrekeyID, signedPrekey: AgreementPrivateKey(using: &rng),
                      pqPrekeyID: pqPrekeyID, pqPrekey: KEMPrivateKey(using: &rng))
        }
    }

    /// Bob's signed invite for `identity` and `prekeys`.
    public static func makeInvite(identity: Identity, prekeys: Prekeys, mailboxes: [MailboxAddress], expiry: UInt64,
                                  displayNameHint: String? = nil) throws(InviteError) -> Invite {
        try Invite(signingWith: identity.signing, expiry: expiry, identityAgreementKey: identity.agreement.publicKey,
                   signedPrekeyID: prekeys.signedPrekeyID, signedPrekey: prekeys.signedPrekey.publicKey,
                   pqPrekeyID: prekeys.pqPrekeyID, pqPrekey: prekeys.pqPrekey.publicKey,
                   mailboxes: mailboxes, displayNameHint: displayNameHint)
    }

    /// Alice's side: agrees on SK with the owner of `invite` (already verified by
    /// `Invite.parse`). `rng` makes EK_A and Alice's first ratchet key.
    public static func initiate(identity: Identity, invite: Invite,
                                rng: inout some RandomSource) throws(SessionSetupError) -> (ratchet: DoubleRatchet, initialMessage: InitialMessage) {
        let kem: (sharedSecret: SecureBytes, ciphertext: KEMCiphertext)
        do { kem = try KEM.encapsulate(to: invite.pqPrekey) } catch { throw .kemFailed }
        return try initiate(identity: identity, invite: invite, encapsulation: kem, rng: &rng)
    }

    /// The same with the ML-KEM-768 encapsulation to the invite's PQPK_B already made
    /// (`KEM.encapsulate`): its shared secret SS and ciphertext ct. `rng` draws the same as in
    /// `initiate(identity:invite:rng:)` (the encapsulation never draws from it). For the worked
    /// example vector (docs/PROTOCOL.md §10), which records one encapsulation because
    /// swift-crypto has no seeded form; a client calls `initiate(identity:invite:rng:)`.
    public static func initiate(identity: Identity, invite: Invite,
                                encapsulation kem: (sharedSecret: SecureBytes, ciphertext: KEMCiphertext),
                                rng: inout some RandomSource) throws(SessionSetupError) -> (ratchet: DoubleRatchet, initialMessage: InitialMessage) {
        let ephemeral = AgreementPrivateKey(using: &rng)
        let dh1 = try agree(identity.agreement, invite.signedPrekey)
        let dh2 = try agree(ephemeral, invite.identityAgreementKey)
        let dh3 = try agree(ephemeral, invite.signedPrekey)
        let sk = rootSecret(dh1: dh1, dh2: dh2, dh3: dh3, kemSecret: kem.sharedSecret)
        let ratchet: DoubleRatchet
        do { ratchet = try DoubleRatchet(initiatorWith: sk, remoteRatchetKey: invite.signedPrekey, rng: &rng) } catch {
            throw .ratchet(error)
        }
        let message = InitialMessage(identityAgreementKey: identity.agreement.publicKey, ephemeralKey: ephemeral.publicKey,
                                     signedPrekeyID: invite.signedPrekeyID, pqPrekeyID: invite.pqPrekeyID,
                                     ciphertext: kem.ciphertext)
        return (ratchet, message)
    }

    /// Bob's side: recomputes SK from `message` with the prekeys it names. A corrupted or forged
    /// message gives a different SK (ML-KEM implicit rejection, wrong DH inputs), which shows as
    /// `authenticationFailed` on the first `decrypt`.
    public static func respond(identity: Identity, prekeys: Prekeys,
                               message: InitialMessage) throws(SessionSetupError) -> DoubleRatchet {
        guard message.signedPrekeyID == prekeys.signedPrekeyID, message.pqPrekeyID == prekeys.pqPrekeyID else {
            throw .unknownPrekey(signedPrekeyID: message.signedPrekeyID, pqPrekeyID: message.pqPrekeyID)
        }
        let dh1 = try agree(prekeys.signedPrekey, message.identityAgreementKey)
        let dh2 = try agree(identity.agreement, message.ephemeralKey)
        let dh3 = try agree(prekeys.signedPrekey, message.ephemeralKey)
        let ss: SecureBytes
        do { ss = try prekeys.pqPrekey.decapsulate(message.ciphertext) } catch { throw .kemFailed }
        let sk = rootSecret(dh1: dh1, dh2: dh2, dh3: dh3, kemSecret: ss)
        return DoubleRatchet(responderWith: sk, ratchetKeyPair: prekeys.signedPrekey)
    }

    /// `AD = IK_A || IK_B`: the associated data of every ratchet message of the session.
    public static func associatedData(initiator: AgreementPublicKey, responder: AgreementPublicKey) -> [UInt8] {
        initiator.bytes + responder.bytes
    }

    /// The associated data a client uses for every ratchet message of a session (docs/PROTOCOL.md
    /// §6.2, §7.3): `IK_A || IK_B || IdS_A || IdS_B` (128 bytes), the initiator's and the
    /// responder's X25519 identity agreement keys, then their Ed25519 identity keys; A is always
    /// the session's initiator.
    public static func associatedData(initiator: AgreementPublicKey, initiatorKey: SigningPublicKey,
                                      responder: AgreementPublicKey, responderKey: SigningPublicKey) -> [UInt8] {
        associatedData(initiator: initiator, responder: responder) + initiatorKey.bytes + responderKey.bytes
    }

    /// SK from the three DH outputs and the ML-KEM shared secret (see the type's comment).
    public static func rootSecret(dh1: SecureBytes, dh2: SecureBytes, dh3: SecureBytes, kemSecret: SecureBytes) -> SymmetricKey {
        let chainingKey = SecureBytes(count: NoiseHKDF.hashLength) { out in
            out.copyBytes(from: label) // 15 bytes, the rest stays zero
        }
        let parts = [dh1, dh2, dh3, kemSecret]
        let inputLength = 32 + parts.reduce(0) { $0 + $1.count }
        let input = SecureBytes(count: inputLength) { out in
            var offset = 0
            for _ in 0..<32 { out[offset] = 0xFF; offset += 1 }
            for part in parts {
                part.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[offset..<(offset + $0.count)]).copyMemory(from: $0) }
                offset += part.count
            }
        }
        let (first, _) = input.withUnsafeBytes { NoiseHKDF.derive2(chainingKey: chainingKey, inputKeyMaterial: $0) }
        let secret = first.withUnsafeBytes { raw in
            SecureBytes(count: SymmetricKey.byteCount) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<SymmetricKey.byteCount])) }
        }
        return try! SymmetricKey(secret: secret) // 32 bytes by construction
    }

    private static func agree(_ privateKey: AgreementPrivateKey, _ publicKey: AgreementPublicKey) throws(SessionSetupError) -> SecureBytes {
        do { return try privateKey.sharedSecret(with: publicKey) } catch { throw .weakPublicKey }
    }
}
