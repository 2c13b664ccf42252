public import SecIRCCrypto

/// A member's standing in a group: admins sign roster updates.
public enum GroupRole: UInt8, Hashable, Sendable {
    case member = 0
    case admin = 1
}

/// A member's two public keys, as the roster lists them: Ed25519 (its identity: the user ID is
/// SHA-256 of it; it signs) and X25519 (new epoch secrets are sealed to it when a member leaves).
public struct GroupIdentity: Hashable, Sendable {
    public let signing: SigningPublicKey
    public let agreement: AgreementPublicKey

    public init(signing: SigningPublicKey, agreement: AgreementPublicKey) {
        self.signing = signing
        self.agreement = agreement
    }
}

/// One change in a ``GroupUpdate``. Wire: a tag byte, then its fields.
public enum GroupOperation: Hashable, Sendable {
    /// 0x01 | Ed25519 key (32) | X25519 key (32) | role (1)
    case add(GroupIdentity, GroupRole)
    /// 0x02 | key (32)
    case remove(SigningPublicKey)
    /// 0x03 | key (32) | role (1)
    case setRole(SigningPublicKey, GroupRole)
    /// 0x04 | length (1) | UTF-8 name (1…64 bytes, no control character)
    case rename(String)
    /// 0x05 | most members (2, 1…1,000, not below the members the group has)
    case setLimit(UInt16)
}

/// Why a roster update was not applied (the roster did not change).
public enum GroupRosterError: Error, Equatable, Sendable {
    /// An update of another group.
    case wrongGroup
    /// Its serial is not the roster's next, or it does not name the roster's hash as previous.
    case notNext
    /// Signed by someone who may not make this change: not an admin (a member may only remove
    /// itself), or, for the first update, not the group key.
    case notAllowed
    /// The signature does not verify.
    case badSignature
    /// An operation that does not fit the roster (adding a member twice, removing a stranger,
    /// the last admin gone, over the limit, a bad name or limit).
    case invalidOperation(String)
}

/// An admin-signed, chained change of a group's roster (issue 13): the group's membership,
/// admins, name and limit change only by these, carried to members inside their pairwise
/// sessions (envelope kind `groupControl`).
///
/// ```
/// update    = 0x01 | group key (32) | serial (8) | previous (32) | author (32)
///             | operation count (2, 1…1,024) | operations | signature (64)
/// signature = Ed25519(author, "secIRC group update v1" | every byte before it)
/// hash      = SHA-256(update, signature included)
/// ```
///
/// Update 0 (the group's creation) has 32 zero bytes as previous and is signed by the group key
/// itself, so the group ID — SHA-256 of the group key — vouches for the first roster; each later
/// update names the hash of the one before and is signed by an admin of the roster it changes.
public struct GroupUpdate: Hashable, Sendable {
    public static let version: UInt8 = 1
    public static let signatureLabel = Array("secIRC group update v1".utf8)
    /// Operations in one update.
    public static let maxOperations = 1024
    /// The longest update (one envelope body): a group of 1,000 is made by more than one.
    public static let maxEncodedLength = 65_536
    /// version | group key | serial | previous | author | operation count.
    public static let headerLength = 1 + 32 + 8 + 32 + 32 + 2

    public let groupKey: SigningPublicKey
    public let serial: UInt64
    public let previous: Bytes32
    public let author: SigningPublicKey
    public let operations: [GroupOperation]
    public let signature: Signature

    /// Signs `operations` as update `serial` after the roster whose hash is `previous`.
    /// Precondition: 1 to ``maxOperations`` operations, ``maxEncodedLength`` bytes at most.
    public static func signed(groupKey: SigningPublicKey, serial: UInt64, previous: Bytes32,
                              operations: [GroupOperation], by author: SigningPrivateKey) -> GroupUpdate {
        precondition((1...maxOperations).contains(operations.count), "a group update holds 1…\(maxOperations) operations")
        let body = signedBody(groupKey: groupKey, serial: serial, previous: previous, author: author.publicKey, operations: operations)
        precondition(body.count + Signature.byteCount <= maxEncodedLength, "a group update of \(body.count) bytes")
        return GroupUpdate(groupKey: groupKey, serial: serial, previous: previous, author: author.publicKey,
                           operations: operations, signature: author.sign(signatureLabel + body))
    }

    private init(groupKey: SigningPublicKey, serial: UInt64, previous: Bytes32, author: SigningPublicKey,
                 operations: [GroupOperation], signature: Signature) {
        self.groupKey = groupKey
        self.serial = serial
        self.previous = previous
        self.author = author
        self.operations = operations
        self.signature = signature
    }

    private static func signedBody(groupKey: SigningPublicKey, serial: UInt64, previous: Bytes32, author: SigningPublicKey,
                                   operations: [GroupOperation]) -> [UInt8] {
        var w = ByteWriter(capacity: headerLength + 34 * operations.count)
        w.write(version)
        w.write(groupKey.rawValue)
        w.write(serial)
        w.write(previous)
        w.write(author.rawValue)
        w.write(UInt16(operations.count))
        for operation in operations {
            switch operation {
            case let .add(identity, role):
                w.write(UInt8(1)); w.write(identity.signing.rawValue); w.write(identity.agreement.rawValue); w.write(role.rawValue)
            case let .remove(key): w.write(UInt8(2)); w.write(key.rawValue)
            case let .setRole(key, role): w.write(UInt8(3)); w.write(key.rawValue); w.write(role.rawValue)
            case let .rename(name): w.write(UInt8(4)); w.write(UInt8(name.utf8.count)); w.write(name.utf8)
            case let .setLimit(limit): w.write(UInt8(5)); w.write(limit)
            }
        }
        return w.bytes
    }

    /// The length an update with `operations` has (to check ``maxEncodedLength`` before signing).
    public static func encodedLength(of operations: [GroupOperation]) -> Int {
        operations.reduce(headerLength + Signature.byteCount) { total, operation in
            switch operation {
            case .add: total + 66
            case .remove: total + 33
            case .setRole: total + 34
            case let .rename(name): total + 2 + name.utf8.count
            case .setLimit: total + 3
            }
        }
    }

    private var body: [UInt8] {
        Self.signedBody(groupKey: groupKey, serial: serial, previous: previous, author: author, operations: operations)
    }

    public var encoded: [UInt8] { body + signature.bytes }

    /// What the next update names as previous.
    public var hash: Bytes32 { SHA256.hash(encoded) }

    /// Whether `author` signed it.
    public var signatureIsValid: Bool {
        (try? author.verify(signature, for: Self.signatureLabel + body)) != nil
    }

    /// Parses untrusted bytes; checks the form (version, operation count and tags, roles, name
    /// lengths and UTF-8), not the signature or whether the operations fit a roster.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupUpdate {
        guard bytes.count >= headerLength + Signature.byteCount else {
            throw .incomplete(deficit: headerLength + Signature.byteCount - bytes.count)
        }
        guard bytes.count <= maxEncodedLength else { throw .trailingBytes(count: bytes.count - maxEncodedLength) }
        var r = ByteReader(Array(bytes.dropLast(Signature.byteCount)))
        do {
            let version = try r.readUInt8()
            guard version == Self.version else { throw DecodeError.invalidValue("group update version \(version)") }
            let groupKey = SigningPublicKey(rawValue: try r.readBytes32())
            let serial = try r.readUInt64()
            let previous = try r.readBytes32()
            let author = SigningPublicKey(rawValue: try r.readBytes32())
            let count = Int(try r.readUInt16())
            guard (1...maxOperations).contains(count) else { throw DecodeError.invalidValue("group update with \(count) operations") }
            var operations: [GroupOperation] = []
            operations.reserveCapacity(count)
            for _ in 0..<count { operations.append(try readOperation(&r)) }
            guard r.remaining == 0 else { throw DecodeError.trailingBytes(count: r.remaining) }
            let signature = try Signature(bytes: Array(bytes.suffix(Signature.byteCount)))
            return GroupUpdate(groupKey: groupKey, serial: serial, previous: previous, author: author,
                               operations: operations, signature: signature)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group update: \(error)")
        }
    }

    private static func readOperation(_ r: inout ByteReader) throws -> GroupOperation {
        let tag = try r.readUInt8()
        switch tag {
        case 1: return .add(try readIdentity(&r), try readRole(&r))
        case 2: return .remove(SigningPublicKey(rawValue: try r.readBytes32()))
        case 3: return .setRole(SigningPublicKey(rawValue: try r.readBytes32()), try readRole(&r))
        case 4: return .rename(try GroupRoster.readName(&r))
        case 5: return .setLimit(try r.readUInt16())
        default: throw DecodeError.invalidValue("group operation \(tag)")
        }
    }

    static func readIdentity(_ r: inout ByteReader) throws -> GroupIdentity {
        GroupIdentity(signing: SigningPublicKey(rawValue: try r.readBytes32()), agreement: AgreementPublicKey(rawValue: try r.readBytes32()))
    }

    static func readRole(_ r: inout ByteReader) throws -> GroupRole {
        let byte = try r.readUInt8()
        guard let role = GroupRole(rawValue: byte) else { throw DecodeError.invalidValue("group role \(byte)") }
        return role
    }
}

/// A group's roster at one point of its update chain: who is in it, who administers it, its
/// name and limit, and the hash of the update that made it.
public struct GroupRoster: Hashable, Sendable {
    /// The most members a group may have.
    public static let maxMembers: UInt16 = 1000
    public static let maxNameBytes = 64
    /// Members other than the creator that update 0 holds (it must fit ``GroupUpdate/maxEncodedLength``).
    public static let maxOthersAtCreation = 980
    public static let snapshotVersion: UInt8 = 1

    public let groupKey: SigningPublicKey
    /// The serial of the update that made this roster.
    public private(set) var serial: UInt64
    /// The hash of the update that made this roster (the next update's `previous`).
    public private(set) var hash: Bytes32
    public private(set) var name: String
    public private(set) var limit: UInt16
    public private(set) var members: [SigningPublicKey: GroupRole]
    /// Each member's X25519 key (the same keys as `members`).
    public private(set) var agreementKeys: [SigningPublicKey: AgreementPublicKey]

    /// SHA-256 of the group key.
    public var groupID: ID { groupKey.id }

    public var admins: Set<SigningPublicKey> { Set(members.filter { $0.value == .admin }.keys) }

    /// The roster update 0 makes. Throws unless it is update 0 with a zero previous, signed by
    /// the group key, and leaves at least one admin.
    public init(creation update: GroupUpdate) throws(GroupRosterError) {
        guard update.serial == 0, update.previous == Bytes32.zero else { throw .notNext }
        guard update.author == update.groupKey else { throw .notAllowed }
        guard update.signatureIsValid else { throw .badSignature }
        self.init(groupKey: update.groupKey, serial: 0, hash: Bytes32.zero, name: "", limit: Self.maxMembers, members: [:],
                  agreementKeys: [:])
        try apply(update.operations)
        hash = update.hash
    }

    private init(groupKey: SigningPublicKey, serial: UInt64, hash: Bytes32, name: String, limit: UInt16,
                 members: [SigningPublicKey: GroupRole], agreementKeys: [SigningPublicKey: AgreementPublicKey]) {
        self.groupKey = groupKey
        self.serial = serial
        self.hash = hash
        self.name = name
        self.limit = limit
        self.members = members
        self.agreementKeys = agreementKeys
    }

    /// A new group: update 0, signed by `groupKey`, making `creator` its admin and `others`
    /// members, with `name` and `limit` (up to 980 others fit update 0; add more by updates).
    public static func create(groupKey: SigningPrivateKey, name: String, limit: UInt16 = maxMembers,
                              creator: GroupIdentity, others: [GroupIdentity] = []) throws(GroupRosterError) -> (GroupUpdate, GroupRoster) {
        let operations: [GroupOperation] = [.rename(name), .setLimit(limit), .add(creator, .admin)] + others.map { .add($0, .member) }
        guard operations.count <= GroupUpdate.maxOperations, others.count <= maxOthersAtCreation else {
            throw .invalidOperation("more than \(maxOthersAtCreation) members in one update")
        }
        let update = GroupUpdate.signed(groupKey: groupKey.publicKey, serial: 0, previous: Bytes32.zero, operations: operations, by: groupKey)
        return (update, try GroupRoster(creation: update))
    }

    /// The roster after `update`, which must follow this one and be signed by one of its admins
    /// (or be a member removing only itself). Throws and changes nothing otherwise.
    public func applying(_ update: GroupUpdate) throws(GroupRosterError) -> GroupRoster {
        guard update.groupKey == groupKey else { throw .wrongGroup }
        guard update.serial == serial &+ 1, serial < .max, update.previous == hash else { throw .notNext }
        let leaving = update.operations == [.remove(update.author)] && members[update.author] != nil
        guard members[update.author] == .admin || leaving else { throw .notAllowed }
        guard update.signatureIsValid else { throw .badSignature }
        var next = self
        try next.apply(update.operations)
        next.serial = update.serial
        next.hash = update.hash
        return next
    }

    private mutating func apply(_ operations: [GroupOperation]) throws(GroupRosterError) {
        for operation in operations {
            switch operation {
            case let .add(identity, role):
                let key = identity.signing
                guard members[key] == nil else { throw .invalidOperation("\(key.id) is a member already") }
                guard members.count < Int(limit) else { throw .invalidOperation("the group has its limit of \(limit) members") }
                members[key] = role
                agreementKeys[key] = identity.agreement
            case let .remove(key):
                guard members.removeValue(forKey: key) != nil else { throw .invalidOperation("\(key.id) is not a member") }
                agreementKeys[key] = nil
            case let .setRole(key, role):
                guard members[key] != nil else { throw .invalidOperation("\(key.id) is not a member") }
                members[key] = role
            case let .rename(newName):
                guard Self.isValidName(newName) else { throw .invalidOperation("a name is 1…\(Self.maxNameBytes) bytes of UTF-8 with no control character") }
                name = newName
            case let .setLimit(newLimit):
                guard (1...Self.maxMembers).contains(newLimit), Int(newLimit) >= members.count else {
                    throw .invalidOperation("limit \(newLimit) is not within \(members.count)…\(Self.maxMembers)")
                }
                limit = newLimit
            }
        }
        guard members.values.contains(.admin) else { throw .invalidOperation("a group keeps at least one admin") }
    }

    public static func isValidName(_ name: String) -> Bool {
        (1...maxNameBytes).contains(name.utf8.count) && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    static func readName(_ r: inout ByteReader) throws -> String {
        let length = Int(try r.readUInt8())
        guard let name = String(validating: try r.readBytes(length), as: UTF8.self), isValidName(name) else {
            throw DecodeError.invalidValue("group name")
        }
        return name
    }

    // MARK: Snapshot

    /// The roster as handed to a member who joins (inside the inviter's pairwise session; the
    /// joiner trusts the inviter for it and checks every later update against it):
    /// ```
    /// 0x01 | group key (32) | serial (8) | hash (32) | name length (1) | name | limit (2)
    ///      | member count (2) | (Ed25519 key (32) | X25519 key (32) | role (1)) × count,
    ///        Ed25519 keys in ascending byte order
    /// ```
    public var snapshot: [UInt8] {
        var w = ByteWriter(capacity: 1 + 32 + 8 + 32 + 1 + Self.maxNameBytes + 4 + 65 * members.count)
        w.write(Self.snapshotVersion)
        w.write(groupKey.rawValue)
        w.write(serial)
        w.write(hash)
        w.write(UInt8(name.utf8.count))
        w.write(name.utf8)
        w.write(limit)
        w.write(UInt16(members.count))
        for (key, role) in members.sorted(by: { $0.key.rawValue.lexicographicallyPrecedes($1.key.rawValue) }) {
            w.write(key.rawValue)
            w.write(agreementKeys[key]!.rawValue)
            w.write(role.rawValue)
        }
        return w.bytes
    }

    /// Parses a snapshot: one version, a valid name, a limit of 1…1,000 no lower than the member
    /// count, keys strictly ascending (so none twice), at least one admin, nothing after.
    public init(snapshot bytes: [UInt8]) throws(DecodeError) {
        var r = ByteReader(bytes)
        do {
            let version = try r.readUInt8()
            guard version == Self.snapshotVersion else { throw DecodeError.invalidValue("group snapshot version \(version)") }
            let groupKey = SigningPublicKey(rawValue: try r.readBytes32())
            let serial = try r.readUInt64()
            let hash = try r.readBytes32()
            let name = try Self.readName(&r)
            let limit = try r.readUInt16()
            let count = Int(try r.readUInt16())
            guard (1...Self.maxMembers).contains(limit), count <= Int(limit) else {
                throw DecodeError.invalidValue("group snapshot with \(count) members and limit \(limit)")
            }
            var members: [SigningPublicKey: GroupRole] = [:]
            var agreementKeys: [SigningPublicKey: AgreementPublicKey] = [:]
            var last: [UInt8]?
            for _ in 0..<count {
                let identity = try GroupUpdate.readIdentity(&r)
                let key = identity.signing
                if let last, !last.lexicographicallyPrecedes(key.bytes) { throw DecodeError.invalidValue("group snapshot keys not ascending") }
                last = key.bytes
                members[key] = try GroupUpdate.readRole(&r)
                agreementKeys[key] = identity.agreement
            }
            guard members.values.contains(.admin) else { throw DecodeError.invalidValue("group snapshot without an admin") }
            guard r.remaining == 0 else { throw DecodeError.trailingBytes(count: r.remaining) }
            self.init(groupKey: groupKey, serial: serial, hash: hash, name: name, limit: limit, members: members,
                      agreementKeys: agreementKeys)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group snapshot: \(error)")
        }
    }
}
