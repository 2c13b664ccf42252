#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import SecIRCCrypto

/// A bearer token for `Authorization: Bearer <token>`: held in zero-on-free memory, compared in
/// constant time, never printed (`description` is redacted).
public final class HTTPBearerToken: Sendable, CustomStringConvertible {
    /// Number of random bytes in a generated token (hex-encoded to twice as many characters).
    public static let generatedByteCount = 32
    /// Shortest token `loadOrCreate` accepts from a file (characters).
    public static let minimumFileTokenLength = 32

    private let secret: SecureBytes

    /// `secret` is the token text exactly as clients send it after `Bearer `.
    public init(_ secret: SecureBytes) {
        self.secret = secret
    }

    /// The token in `path`, or a new one (32 random bytes, hex) written there with mode 0600
    /// through `KeyFile`. A file readable by group or others is refused (with the `chmod`
    /// to fix it); surrounding whitespace (an editor's newline) is ignored. Throws
    /// `HTTPServerError.file` saying why.
    public static func loadOrCreate(path: String) throws -> HTTPBearerToken {
        if access(path, F_OK) != 0 {
            let token = generate()
            do {
                try KeyFile.write(token, to: path)
                return HTTPBearerToken(token)
            } catch CryptoError.keyFile(_, let reason) where reason == "already exists" {
                // Another process created it between the check and the write: use theirs.
            } catch {
                throw HTTPServerError.file(path: path, reason: "cannot write token: \(error)")
            }
        }
        let contents: SecureBytes
        do {
            contents = try KeyFile.read(path, maximumSize: 4096)
        } catch let CryptoError.keyFile(_, reason) {
            throw HTTPServerError.file(path: path, reason: reason)
        } catch {
            throw HTTPServerError.file(path: path, reason: "\(error)")
        }
        let token = trimmed(contents)
        guard token.count >= minimumFileTokenLength else {
            throw HTTPServerError.file(path: path, reason: "token shorter than \(minimumFileTokenLength) characters")
        }
        let printable = token.withUnsafeBytes { $0.allSatisfy { $0 > 0x20 && $0 < 0x7f } }
        guard printable else {
            throw HTTPServerError.file(path: path, reason: "token must be printable ASCII without spaces")
        }
        return HTTPBearerToken(token)
    }

    /// True when `authorization` is `Bearer <token>` (scheme in any case) with this token.
    public func verify(authorization: String?) -> Bool {
        guard let authorization else { return false }
        var utf8 = Array(authorization.utf8)
        defer { ConstantTime.wipe(&utf8) }
        let scheme = Array("bearer".utf8)
        guard utf8.count > scheme.count, utf8[scheme.count] == UInt8(ascii: " ") else { return false }
        for (index, byte) in scheme.enumerated() where byte != (utf8[index] | 0x20) { return false }
        var start = scheme.count
        while start < utf8.count, utf8[start] == UInt8(ascii: " ") { start += 1 }
        var end = utf8.count
        while end > start, utf8[end - 1] == UInt8(ascii: " ") { end -= 1 }
        guard end > start else { return false }
        return utf8.withUnsafeBytes { presented in
            secret.withUnsafeBytes { expected in
                ConstantTime.equal(UnsafeRawBufferPointer(rebasing: presented[start..<end]), expected)
            }
        }
    }

    public var description: String { "HTTPBearerToken(<redacted>)" }

    /// 32 random bytes as 64 lowercase hex characters, made in zero-on-free memory.
    private static func generate() -> SecureBytes {
        var rng = SystemRandom()
        let raw = SecureBytes(randomCount: generatedByteCount, using: &rng)
        let digits = Array("0123456789abcdef".utf8)
        return SecureBytes(count: generatedByteCount * 2) { out in
            raw.withUnsafeBytes { bytes in
                for (index, byte) in bytes.enumerated() {
                    out[2 * index] = digits[Int(byte >> 4)]
                    out[2 * index + 1] = digits[Int(byte & 0x0f)]
                }
            }
        }
    }

    /// `contents` without leading and trailing ASCII whitespace.
    private static func trimmed(_ contents: SecureBytes) -> SecureBytes {
        contents.withUnsafeBytes { bytes in
            let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }
            var start = 0, end = bytes.count
            while start < end, isSpace(bytes[start]) { start += 1 }
            while end > start, isSpace(bytes[end - 1]) { end -= 1 }
            return SecureBytes(count: end - start) { out in
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            }
        }
    }
}
