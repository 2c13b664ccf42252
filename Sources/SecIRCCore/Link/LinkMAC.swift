public import SecIRCCrypto

/// The MACs and cookie of the link handshake (WireGuard's scheme, with BLAKE2b):
/// ```
/// mac1 key    = BLAKE2b-256("mac1----" || responder static public key)
/// mac1        = BLAKE2b-128(key: mac1 key, every byte of the message before mac1)
/// cookie      = BLAKE2b-128(key: responder cookie secret (32 bytes), source address bytes)
/// mac2        = BLAKE2b-128(key: cookie, every byte of the message before mac2), or 16 zero bytes
/// cookie key  = BLAKE2b-256("cookie--" || responder static public key)   (XChaCha20-Poly1305 key)
/// ```
/// BLAKE2b-128 and -256 are BLAKE2b with a 16- or 32-byte digest (keyed mode where a key is
/// named). mac1 is keyed by the responder's static key on initiations and responses alike.
public enum LinkMAC {
    public static let length = LinkWireFormat.macLength

    /// The mac1 key for messages to or from the responder with this static key.
    public static func mac1Key(responderStatic: AgreementPublicKey) -> SymmetricKey {
        labelledKey(LinkWireFormat.mac1Label, responderStatic)
    }

    /// The key that seals cookie replies of the responder with this static key.
    public static func cookieKey(responderStatic: AgreementPublicKey) -> SymmetricKey {
        labelledKey(LinkWireFormat.cookieLabel, responderStatic)
    }

    /// mac1 over `covered` (the message bytes before mac1).
    public static func mac1(_ covered: ArraySlice<UInt8>, key: SymmetricKey) -> [UInt8] {
        covered.withUnsafeBytes { data in key.withUnsafeBytes { BLAKE2b.hash(data, outputLength: length, key: $0) } }
    }

    /// mac2 over `covered` (the message bytes before mac2) under a cookie.
    public static func mac2(_ covered: ArraySlice<UInt8>, cookie: LinkCookie) -> [UInt8] {
        covered.withUnsafeBytes { data in cookie.secret.withUnsafeBytes { BLAKE2b.hash(data, outputLength: length, key: $0) } }
    }

    /// The cookie a responder with `secret` gives the source address `source` (any bytes the
    /// caller uses to name the address, e.g. IP and port).
    public static func cookie(secret: SymmetricKey, source: [UInt8]) -> LinkCookie {
        let value = source.withUnsafeBytes { data in
            secret.withUnsafeBytes { key in
                SecureBytes(count: LinkCookie.byteCount) { BLAKE2b.hash(data, key: key, into: $0) }
            }
        }
        return LinkCookie(secret: value)
    }

    /// Constant-time comparison of a received MAC with the expected one.
    static func matches(_ received: [UInt8], _ expected: [UInt8]) -> Bool {
        ConstantTime.equal(received, expected)
    }

    private static func labelledKey(_ label: [UInt8], _ key: AgreementPublicKey) -> SymmetricKey {
        let digest = BLAKE2b.hash(label + key.bytes, outputLength: SymmetricKey.byteCount)
        return try! SymmetricKey(bytes: digest) // 32 bytes by construction
    }
}
