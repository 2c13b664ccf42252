import SecIRCCrypto

/// A responder's cookie for one source address: BLAKE2b-128(key: responder cookie secret,
/// source address bytes). A bearer token for that address, so it is kept in zero-on-free memory
/// and compared in constant time. It keys mac2.
public struct LinkCookie: Sendable, Equatable, CustomStringConvertible {
    public static let byteCount = LinkWireFormat.cookieLength

    let secret: SecureBytes

    /// Wraps 16 cookie bytes; another length throws `CryptoError.invalidLength`.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw CryptoError.invalidLength(what: "link cookie", expected: Self.byteCount, actual: bytes.count)
        }
        secret = SecureBytes(bytes)
    }

    init(secret: SecureBytes) {
        precondition(secret.count == Self.byteCount)
        self.secret = secret
    }

    public var description: String { "LinkCookie(<redacted>)" }
}
