#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import Foundation
import SecIRCCrypto

extension HTTPTLS {
    /// File names inside the directory given to `loadOrCreateSelfSigned`.
    public static let certificateFileName = "tls.crt"
    public static let keyFileName = "tls.key"

    /// `tls.crt` and `tls.key` from `directory`, made on first use with `SelfSignedCertificate`
    /// (P-256, the key written 0600 through `KeyFile`). Returns the certificate's SHA-256
    /// fingerprint for clients to pin. One file without the other is an error (it is not
    /// silently replaced).
    public static func loadOrCreateSelfSigned(directory: String, commonName: String) throws -> (HTTPTLS, fingerprint: String) {
        let certificatePath = directory + "/" + certificateFileName
        let keyPath = directory + "/" + keyFileName
        let haveCertificate = access(certificatePath, F_OK) == 0
        let haveKey = access(keyPath, F_OK) == 0
        if haveCertificate && haveKey { return try load(certificateFile: certificatePath, keyFile: keyPath) }
        if haveCertificate != haveKey {
            let missing = haveCertificate ? keyPath : certificatePath
            throw HTTPServerError.file(path: missing, reason: "missing while its pair exists; restore it or remove both to make new ones")
        }
        let made: SelfSignedCertificate
        do {
            made = try SelfSignedCertificate.generate(commonName: commonName)
        } catch {
            throw HTTPServerError.tlsRejected("cannot make a self-signed certificate: \(error)")
        }
        do {
            try KeyFile.write(text: made.privateKeyPEM.value, to: keyPath)
        } catch {
            throw HTTPServerError.file(path: keyPath, reason: "\(error)")
        }
        try writePublic(made.certificatePEM, to: certificatePath)
        return (HTTPTLS(certificatePEM: made.certificatePEM, privateKeyPEM: made.privateKeyPEM), made.fingerprint)
    }

    /// An operator's certificate (PEM chain) and key (PEM, mode 0600 or stricter: a key file
    /// others can read is refused). The fingerprint is that of the first certificate.
    public static func load(certificateFile: String, keyFile: String) throws -> (HTTPTLS, fingerprint: String) {
        let certificatePEM: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: certificateFile))
            guard data.count <= 1 << 20 else { throw HTTPServerError.file(path: certificateFile, reason: "larger than 1 MiB") }
            certificatePEM = String(decoding: data, as: UTF8.self)
        } catch let error as HTTPServerError {
            throw error
        } catch {
            throw HTTPServerError.file(path: certificateFile, reason: "cannot read: \(error.localizedDescription)")
        }
        let fingerprint: String
        do {
            fingerprint = try SelfSignedCertificate.fingerprint(ofPEM: certificatePEM)
        } catch {
            throw HTTPServerError.file(path: certificateFile, reason: "not a PEM certificate")
        }
        let key: SecureBytes
        do {
            key = try KeyFile.read(keyFile, maximumSize: 1 << 16)
        } catch let CryptoError.keyFile(_, reason) {
            throw HTTPServerError.file(path: keyFile, reason: reason)
        } catch {
            throw HTTPServerError.file(path: keyFile, reason: "\(error)")
        }
        let keyPEM = key.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        guard keyPEM.contains("PRIVATE KEY-----") else {
            throw HTTPServerError.file(path: keyFile, reason: "not a PEM private key")
        }
        return (HTTPTLS(certificatePEM: certificatePEM, privateKeyPEM: Redacted(keyPEM)), fingerprint)
    }

    /// Writes a public file (0644) through a temporary name and an atomic rename.
    private static func writePublic(_ text: String, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            guard chmod(temporary, 0o644) == 0, rename(temporary, path) == 0 else {
                throw HTTPServerError.file(path: path, reason: String(cString: strerror(errno)))
            }
        } catch let error as HTTPServerError {
            unlink(temporary)
            throw error
        } catch {
            unlink(temporary)
            throw HTTPServerError.file(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
