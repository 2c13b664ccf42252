public import SecIRCCore
public import SecIRCCrypto

/// The onion key ring as a file: a relay writes it (0600, atomically) whenever its keys change
/// and before it publishes them, and reads it at start, so a restart does not drop packets built
/// against keys it already published.
///
/// Format (all integers big-endian):
/// `"secirc-onion-keys-v1\n"` | rotated_at (i64, Unix ns) | flags (u8: bit 0 = a previous key)
/// | current: epoch (u32), X25519 secret (32) | next: epoch, secret
/// | [previous: epoch, secret, grace ends (i64, Unix ns)].
/// The secrets are written into and read from zero-on-free memory (``SecureBytes``).
extension OnionKeyRing {
    /// What the file holds.
    public struct Saved: Sendable {
        public var current: OnionKey
        public var next: OnionKey
        public var previous: (key: OnionKey, until: UnixTime)?
        public var rotatedAt: UnixTime

        public init(current: OnionKey, next: OnionKey, previous: (key: OnionKey, until: UnixTime)?, rotatedAt: UnixTime) {
            self.current = current
            self.next = next
            self.previous = previous
            self.rotatedAt = rotatedAt
        }
    }

    /// The ring's state to save.
    public var saved: Saved {
        Saved(current: current, next: next, previous: previous.flatMap { key in previousUntil.map { (key, $0) } }, rotatedAt: rotatedAt)
    }

    static let fileMagic = Array("secirc-onion-keys-v1\n".utf8)
    private static let keyBytes = 4 + AgreementPrivateKey.byteCount

    /// The file's bytes.
    public static func encode(_ saved: Saved) -> SecureBytes {
        let count = fileMagic.count + 8 + 1 + 2 * keyBytes + (saved.previous == nil ? 0 : keyBytes + 8)
        return SecureBytes(count: count) { buffer in
            var offset = 0
            func put(_ bytes: some Collection<UInt8>) {
                for byte in bytes { buffer[offset] = byte; offset += 1 }
            }
            func put64(_ value: Int64) { put(withUnsafeBytes(of: UInt64(bitPattern: value).bigEndian) { Array($0) }) }
            func put(_ key: OnionKey) {
                put(withUnsafeBytes(of: key.epoch.bigEndian) { Array($0) })
                key.privateKey.withUnsafeScalar { scalar in
                    UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + scalar.count]).copyMemory(from: scalar)
                    offset += scalar.count
                }
            }
            put(fileMagic)
            put64(saved.rotatedAt.nanoseconds)
            put([saved.previous == nil ? 0 : 1])
            put(saved.current)
            put(saved.next)
            if let previous = saved.previous {
                put(previous.key)
                put64(previous.until.nanoseconds)
            }
        }
    }

    /// Reads the file's bytes; throws ``DecodeError`` saying what is wrong (the caller names the
    /// file). Checks the magic, the length, the flags and that the epochs are in order.
    public static func decode(_ file: SecureBytes) throws(DecodeError) -> Saved {
        do {
            return try file.withUnsafeBytes { bytes throws(DecodeError) -> Saved in
                var offset = 0
                func take(_ n: Int) throws(DecodeError) -> UnsafeRawBufferPointer {
                    guard bytes.count - offset >= n else { throw .incomplete(deficit: n - (bytes.count - offset)) }
                    defer { offset += n }
                    return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
                }
                func integer<T: FixedWidthInteger>(_: T.Type) throws(DecodeError) -> T {
                    try take(MemoryLayout<T>.size).reduce(T(0)) { $0 << 8 | T($1) }
                }
                func key() throws(DecodeError) -> OnionKey {
                    let epoch = try integer(UInt32.self)
                    let scalar = try take(AgreementPrivateKey.byteCount)
                    let secret = SecureBytes(count: scalar.count) { $0.copyMemory(from: scalar) }
                    guard let privateKey = try? AgreementPrivateKey(secret: secret) else { throw .invalidValue("onion key \(epoch)") }
                    return OnionKey(epoch: epoch, privateKey: privateKey)
                }
                guard Array(try take(fileMagic.count)) == fileMagic else { throw .invalidValue("not a secIRC onion key file (v1)") }
                let rotatedAt = UnixTime(nanoseconds: Int64(bitPattern: try integer(UInt64.self)))
                let flags = try integer(UInt8.self)
                guard flags <= 1 else { throw .invalidValue("flags \(flags)") }
                let current = try key()
                let next = try key()
                var previous: (OnionKey, UnixTime)?
                if flags == 1 {
                    let old = try key()
                    previous = (old, UnixTime(nanoseconds: Int64(bitPattern: try integer(UInt64.self))))
                }
                guard offset == bytes.count else { throw .trailingBytes(count: bytes.count - offset) }
                guard next.epoch == current.epoch &+ 1 else {
                    throw .invalidValue("next epoch \(next.epoch) does not follow \(current.epoch)")
                }
                if let (old, _) = previous, old.epoch &+ 1 != current.epoch {
                    throw .invalidValue("previous epoch \(old.epoch) does not precede \(current.epoch)")
                }
                return Saved(current: current, next: next, previous: previous, rotatedAt: rotatedAt)
            }
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("\(error)")
        }
    }
}
