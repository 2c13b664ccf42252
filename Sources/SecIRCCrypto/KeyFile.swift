#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
private let systemWrite = Darwin.write
#endif
internal import Foundation

/// Secret files on disk: written 0600 through a temporary file and an atomic rename, refused
/// on read when anyone but the owner may read them (as ssh does).
public enum KeyFile {
    /// Writes `secret` to `path` with mode 0600. Fails if `path` exists unless `replace` is true;
    /// the check and the creation are one atomic step (link(2) fails on an existing name).
    /// Durable when it returns: the temporary file is fsynced before the rename, and the
    /// directory after it, so a crash leaves either the old file or the new one, whole.
    public static func write(_ secret: SecureBytes, to path: String, replace: Bool = false) throws {
        let temporary = path + ".tmp-\(getpid())-\(UUID().uuidString)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CryptoError.keyFile(path: temporary, reason: errnoText()) }
        defer { unlink(temporary) }
        var failure: String?
        let written = secret.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        if !written || fsync(fd) != 0 { failure = errnoText() }
        close(fd)
        if let failure { throw CryptoError.keyFile(path: temporary, reason: failure) }
        if replace {
            guard rename(temporary, path) == 0 else { throw CryptoError.keyFile(path: path, reason: errnoText()) }
        } else {
            guard link(temporary, path) == 0 else {
                throw CryptoError.keyFile(path: path, reason: errno == EEXIST ? "already exists" : errnoText())
            }
        }
        try syncDirectory(of: path)
    }

    /// fsync of the directory holding `path`, so a rename or link in it survives a crash.
    private static func syncDirectory(of path: String) throws {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CryptoError.keyFile(path: directory, reason: errnoText()) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CryptoError.keyFile(path: directory, reason: errnoText()) }
    }

    /// Text form of `write`, for PEM keys and tokens.
    public static func write(text: String, to path: String, replace: Bool = false) throws {
        try write(SecureBytes(Array(text.utf8)), to: path, replace: replace)
    }

    /// Reads a secret file. Throws if it is missing, not a regular file, readable or writable by
    /// group or others, or larger than `maximumSize`.
    public static func read(_ path: String, maximumSize: Int = 1 << 16) throws -> SecureBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CryptoError.keyFile(path: path, reason: errnoText()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CryptoError.keyFile(path: path, reason: errnoText()) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw CryptoError.keyFile(path: path, reason: "not a regular file") }
        guard info.st_mode & 0o077 == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw CryptoError.keyFile(path: path, reason: "permissions \(mode) are too open; run: chmod 600 \(path)")
        }
        let size = Int(info.st_size)
        guard size <= maximumSize else { throw CryptoError.keyFile(path: path, reason: "larger than \(maximumSize) bytes") }
        return try SecureBytes(count: size) { buffer in
            var offset = 0
            while offset < size {
                let n = systemRead(fd, buffer.baseAddress! + offset, size - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw CryptoError.keyFile(path: path, reason: n == 0 ? "changed while reading" : errnoText()) }
                offset += n
            }
        }
    }

    /// The permission bits of `path` (for tests and diagnostics).
    public static func permissions(of path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CryptoError.keyFile(path: path, reason: errnoText()) }
        return Int(info.st_mode & 0o777)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
