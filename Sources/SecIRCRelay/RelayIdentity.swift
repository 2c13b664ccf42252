internal import Foundation
internal import SecIRCHTTP
public import SecIRCCrypto

/// The relay's long-term Ed25519 identity: its ID is SHA-256 of the public key. The 32-byte
/// seed lives in `<data-dir>/identity.key`, mode 0600, created on first start.
public struct RelayIdentity: Sendable {
    public static let fileName = "identity.key"

    public let signingKey: SigningPrivateKey
    public var id: ID { signingKey.publicKey.id }
    /// True when this start created the key.
    public let created: Bool

    /// The Ed25519 public key as 64 hex digits: what security.yaml's `first_ring.members` lists.
    public var publicKeyHex: String { signingKey.publicKey.rawValue.hex }

    /// ``loadOrCreate(dataDirectory:using:)`` with the system's randomness.
    public static func loadOrCreate(dataDirectory: String) throws -> RelayIdentity {
        var rng = SystemRandom()
        return try loadOrCreate(dataDirectory: dataDirectory, using: &rng)
    }

    /// Loads the identity from `dataDirectory`, creating the directory (0700) and the key
    /// (0600) when absent. A key file that others can read, or of the wrong size, is refused.
    public static func loadOrCreate(dataDirectory: String, using rng: inout some RandomSource) throws -> RelayIdentity {
        try DataDirectory.prepare(dataDirectory)
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        if FileManager.default.fileExists(atPath: path) {
            let seed = try KeyFile.read(path, maximumSize: 1024)
            guard seed.count == SigningPrivateKey.seedByteCount else {
                throw CryptoError.keyFile(path: path, reason: "holds \(seed.count) bytes, expected a 32-byte Ed25519 seed")
            }
            let key = try SigningPrivateKey(seed: seed)
            return RelayIdentity(signingKey: key, created: false)
        }
        let key = SigningPrivateKey(using: &rng)
        try KeyFile.write(key.seed(), to: path)
        return RelayIdentity(signingKey: key, created: true)
    }
}

/// The relay's data directory: created 0700 so keys and tokens inside stay private.
public enum DataDirectory {
    public static func prepare(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CryptoError.keyFile(path: path, reason: "is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw CryptoError.keyFile(path: path, reason: "cannot create the data directory: \(error.localizedDescription)")
        }
    }
}

extension RelayIdentity {
    /// What `secirc-relay --print-identity` prints, made in the data directory if absent: the
    /// identity key (what the other members of a first ring list in security.yaml), the relay ID,
    /// and with `http.tls: self_signed` the SPKI pin of its HTTPS key (what their URLs pin:
    /// `https://host:port/#spki=<pin>`).
    public static func printable(settings: RelaySettings) throws -> String {
        let server = settings.server
        let identity = try loadOrCreate(dataDirectory: server.relay.dataDirectory)
        var text = "identity_key \(identity.publicKeyHex)\nrelay id \(identity.id)"
        if server.http.tls == .selfSigned {
            let tls = try HTTPTLS.loadOrCreateSelfSigned(directory: server.relay.dataDirectory, commonName: "secirc-relay")
            text += "\ntls spki pin \(try SelfSignedCertificate.spkiPin(ofPEM: tls.0.certificatePEM))"
        }
        return text
    }
}
