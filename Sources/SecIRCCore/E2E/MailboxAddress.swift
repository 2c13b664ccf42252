public import SecIRCCrypto

/// Where a user's mail waits: the relay that holds the mailbox (its ID, SHA-256 of its Ed25519
/// key) and the mailbox's own 32-byte ID. On the wire: `relayID 32 || mailboxID 32`.
public struct MailboxAddress: Hashable, Sendable {
    public static let encodedLength = 64
    public var relayID: ID
    public var mailboxID: Bytes32

    public init(relayID: ID, mailboxID: Bytes32) {
        self.relayID = relayID
        self.mailboxID = mailboxID
    }
}

extension MailboxAddress {
    /// Reads one address: relay ID (32) || mailbox ID (32).
    public init(reading r: inout ByteReader) throws {
        self.init(relayID: ID(rawValue: try r.readBytes32()), mailboxID: try r.readBytes32())
    }

    /// Writes relay ID (32) || mailbox ID (32).
    public func write(to w: inout ByteWriter) {
        w.write(relayID.rawValue)
        w.write(mailboxID)
    }

    /// Addresses back to back, no count (`encodedLength` bytes each).
    public static func encode(_ addresses: [MailboxAddress]) -> [UInt8] {
        var w = ByteWriter(capacity: addresses.count * encodedLength)
        for address in addresses { address.write(to: &w) }
        return w.bytes
    }

    /// The inverse of `encode`: throws unless `bytes` holds whole addresses.
    public static func decodeList(_ bytes: [UInt8]) throws -> [MailboxAddress] {
        guard bytes.count % encodedLength == 0 else { throw DecodeError.trailingBytes(count: bytes.count % encodedLength) }
        var r = ByteReader(bytes)
        return try (0..<(bytes.count / encodedLength)).map { _ in try MailboxAddress(reading: &r) }
    }
}
