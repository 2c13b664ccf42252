import Foundation
public import SecIRCCrypto
import SecIRCNode

/// The key that seals secrets and message bodies in the client's database: either a random
/// 32-byte key in `<data-dir>/storage.key` (0600), or, when a passphrase file is configured,
/// Argon2id of that passphrase with a random salt kept in `<data-dir>/storage.salt`.
public enum StorageKey {
    public static let keyFileName = "storage.key"
    public static let saltFileName = "storage.salt"

    public static func loadOrCreate(dataDirectory: String, passphraseFile: String,
                                    cost: Argon2id.Cost = .moderate) throws -> SymmetricKey {
        var rng = SystemRandom()
        if passphraseFile.isEmpty {
            let path = dataDirectory + "/" + keyFileName
            if FileManager.default.fileExists(atPath: path) {
                return try SymmetricKey(secret: KeyFile.read(path, maximumSize: 1024))
            }
            let key = SymmetricKey(using: &rng)
            try KeyFile.write(key.withUnsafeBytes { SecureBytes(Array($0)) }, to: path)
            return key
        }
        let passphrase = try KeyFile.read(passphraseFile, maximumSize: 4096)
        var text = passphrase.unsafeCopy()
        defer { ConstantTime.wipe(&text) }
        while let last = text.last, last == 0x0A || last == 0x0D { text.removeLast() }
        guard !text.isEmpty else { throw ClientError.storage("passphrase file \(passphraseFile) is empty") }
        let saltPath = dataDirectory + "/" + saltFileName
        let salt: [UInt8]
        if FileManager.default.fileExists(atPath: saltPath) {
            salt = try KeyFile.read(saltPath, maximumSize: 64).unsafeCopy()
            guard salt.count == Argon2id.saltByteCount else { throw ClientError.storage("\(saltPath) holds \(salt.count) bytes, expected \(Argon2id.saltByteCount)") }
        } else {
            salt = rng.bytes(Argon2id.saltByteCount)
            try KeyFile.write(SecureBytes(salt), to: saltPath)
        }
        return try Argon2id.deriveKey(passphrase: text, salt: salt, cost: cost)
    }
}

/// Seals values for the database with the storage key: XChaCha20-Poly1305 under a random nonce,
/// bound to what the value is (`purpose`), so a sealed value cannot be moved to another column.
public struct StorageSealer: Sendable {
    private let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    func seal(_ plaintext: [UInt8], purpose: String) -> Data {
        var rng = SystemRandom()
        return Data(XChaCha20Poly1305.seal(plaintext, key: key, associatedData: Self.context(purpose), using: &rng))
    }

    func seal(_ secret: SecureBytes, purpose: String) -> Data {
        var plain = secret.unsafeCopy()
        defer { ConstantTime.wipe(&plain) }
        return seal(plain, purpose: purpose)
    }

    func open(_ sealed: Data, purpose: String) throws -> [UInt8] {
        do { return try XChaCha20Poly1305.open(combined: Array(sealed), key: key, associatedData: Self.context(purpose)) } catch {
            throw ClientError.storage("a sealed \(purpose) does not open with this storage key (wrong passphrase or key file?)")
        }
    }

    func openSecret(_ sealed: Data, purpose: String) throws -> SecureBytes {
        var plain = try open(sealed, purpose: purpose)
        defer { ConstantTime.wipe(&plain) }
        return SecureBytes(plain)
    }

    private static func context(_ purpose: String) -> [UInt8] { Array("secIRC store v1 \(purpose)".utf8) }
}
