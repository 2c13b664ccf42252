public import SecIRCCrypto

/// A first-ring member's statement "for round `serial` I signed the directory body with hash
/// `bodyHash`", signed by the member, carrying that signature (over the directory's
/// ``SignedDocument/signedBytes``) so that a member holding the same body adds it to its copy.
/// Two shares by one member for one serial and two bodies prove that it equivocated.
public struct DirectorySignatureShare: SignedContent, Hashable {
    public static let documentType = "secirc-directory-share-v1"

    public var version: Int
    public var serial: UInt64
    /// SHA-256 of the directory body signed (``SignedDocument/bodyHash``).
    public var bodyHash: Bytes32
    public var signer: SigningPublicKey
    /// The signer's signature over the directory's `type || 0x00 || body`.
    public var signature: Signature

    public init(version: Int = 1, serial: UInt64, bodyHash: Bytes32, signer: SigningPublicKey, signature: Signature) {
        self.version = version
        self.serial = serial
        self.bodyHash = bodyHash
        self.signer = signer
        self.signature = signature
    }

    enum CodingKeys: String, CodingKey {
        case version, serial, signer, signature
        case bodyHash = "body_hash"
    }

    public func validate() throws {
        guard version == 1 else { throw DirectoryError.invalid("share version \(version)") }
    }

    /// `directory`'s signature by `identity`, as a share signed by `identity`.
    public static func share(of directory: SignedDocument, serial: UInt64, by identity: SigningPrivateKey) -> SignedDocument {
        let share = DirectorySignatureShare(serial: serial, bodyHash: directory.bodyHash, signer: identity.publicKey,
                                            signature: identity.sign(directory.signedBytes))
        var document = SignedDocument(type: documentType, body: DocumentCoding.encode(share))
        document.sign(with: identity)
        return document
    }
}

extension Unverified where Content == DirectorySignatureShare {
    /// Checks that a member of `roster` signed the share it names as signer. (Whether the
    /// carried signature verifies is checked against the body it names, by whoever holds it.)
    public func verified(roster: Roster) throws -> DirectorySignatureShare {
        let share = try decodeBody()
        guard roster.keys.contains(share.signer) else { throw DirectoryError.invalid("the signer is not a member of the roster") }
        guard document.validSigners(among: [share.signer]).contains(share.signer) else {
            throw DirectoryError.insufficientSignatures(valid: 0, required: 1)
        }
        return share
    }
}

/// Proof that a first-ring member signed two different things for one round: two votes, or two
/// signature shares naming different directory bodies. Anyone holding the roster can check it.
public struct EquivocationProof: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable {
        case vote
        case signature
    }

    public var kind: Kind
    public var member: SigningPublicKey
    public var serial: UInt64
    public var first: SignedDocument
    public var second: SignedDocument

    public init(kind: Kind, member: SigningPublicKey, serial: UInt64, first: SignedDocument, second: SignedDocument) {
        self.kind = kind
        self.member = member
        self.serial = serial
        self.first = first
        self.second = second
    }

    /// Throws unless both documents are signed by `member` (a member of `roster`), are for
    /// `serial`, and differ in what they commit to.
    public func check(roster: Roster) throws {
        switch kind {
        case .vote:
            let a = try Unverified<DirectoryVote>(first).verified(roster: roster).vote
            let b = try Unverified<DirectoryVote>(second).verified(roster: roster).vote
            guard a.voter == member, b.voter == member, a.serial == serial, b.serial == serial, first.body != second.body else {
                throw DirectoryError.invalid("not two different votes by one member for one round")
            }
        case .signature:
            let a = try Unverified<DirectorySignatureShare>(first).verified(roster: roster)
            let b = try Unverified<DirectorySignatureShare>(second).verified(roster: roster)
            guard a.signer == member, b.signer == member, a.serial == serial, b.serial == serial, a.bodyHash != b.bodyHash else {
                throw DirectoryError.invalid("not two shares by one member for two bodies of one round")
            }
        }
    }

    enum CodingKeys: String, CodingKey { case kind, member, serial, first, second }
}
