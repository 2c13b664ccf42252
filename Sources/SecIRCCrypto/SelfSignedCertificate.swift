internal import COpenSSL
import Foundation

/// A TLS key and self-signed X.509 certificate in PEM, made with OpenSSL, for a daemon's HTTPS
/// when the operator configured none. Clients pin it by `fingerprint` (SHA-256 of the DER).
public struct SelfSignedCertificate: Sendable {
    /// PEM "CERTIFICATE".
    public let certificatePEM: String
    /// PEM "PRIVATE KEY" (PKCS#8, ECDSA P-256). Write it 0600.
    public let privateKeyPEM: Redacted<String>
    /// SHA-256 of the certificate's DER, lowercase hex.
    public let fingerprint: String

    /// Makes a P-256 key and a certificate for `commonName`, valid from an hour ago for
    /// `validDays`, with subjectAltName `DNS:localhost, IP:127.0.0.1, IP:::1` plus `extraNames`
    /// (each already in OpenSSL's `DNS:name` / `IP:addr` form).
    public static func generate(commonName: String, extraNames: [String] = [], validDays: Int = 825) throws -> SelfSignedCertificate {
        guard let key = secirc_generate_p256() else { throw CryptoError.openSSL(OpenSSLError.drain()) }
        defer { EVP_PKEY_free(key) }
        guard let cert = X509_new() else { throw CryptoError.openSSL(OpenSSLError.drain()) }
        defer { X509_free(cert) }

        var rng = SystemRandom()
        var serial = rng.next() & 0x7fff_ffff_ffff_ffff
        if serial == 0 { serial = 1 }
        guard X509_set_version(cert, 2) == 1,
              ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), serial) == 1,
              X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != nil,
              X509_gmtime_adj(X509_getm_notAfter(cert), validDays * 86_400) != nil,
              X509_set_pubkey(cert, key) == 1,
              let name = X509_get_subject_name(cert),
              X509_NAME_add_entry_by_txt(name, "CN", secirc_mbstring_asc(), commonName, -1, -1, 0) == 1,
              X509_set_issuer_name(cert, name) == 1
        else { throw CryptoError.openSSL(OpenSSLError.drain()) }

        let altNames = (["DNS:localhost", "IP:127.0.0.1", "IP:::1"] + extraNames).joined(separator: ",")
        guard let ext = X509V3_EXT_conf_nid(nil, nil, NID_subject_alt_name, altNames) else {
            throw CryptoError.openSSL("subjectAltName \(altNames): \(OpenSSLError.drain())")
        }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(cert, ext, -1) == 1, X509_sign(cert, key, EVP_sha256()) > 0 else {
            throw CryptoError.openSSL(OpenSSLError.drain())
        }

        let certPEM = try MemoryBIO.collect { PEM_write_bio_X509($0, cert) }
        let keyPEM = try MemoryBIO.collect { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        return SelfSignedCertificate(certificatePEM: certPEM, privateKeyPEM: Redacted(keyPEM),
                                     fingerprint: try fingerprint(of: cert))
    }

    /// The SHA-256 fingerprint (lowercase hex of the DER) of the first certificate in `pem`,
    /// for certificates the operator supplied.
    public static func fingerprint(ofPEM pem: String) throws -> String {
        try withCertificate(pem) { try fingerprint(of: $0) }
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo of the first certificate in `pem`, in standard
    /// base64: the pin a bootstrap URL carries (`https://host:port/#spki=<pin>`), as
    /// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`
    /// prints it and libcurl's `CURLOPT_PINNEDPUBLICKEY sha256//<pin>` takes it. It stays the
    /// same when the certificate is renewed with the same key.
    public static func spkiPin(ofPEM pem: String) throws -> String {
        try withCertificate(pem) { cert in
            guard let key = X509_get0_pubkey(cert) else { throw CryptoError.openSSL(OpenSSLError.drain()) }
            let length = i2d_PUBKEY(key, nil)
            guard length > 0 else { throw CryptoError.openSSL(OpenSSLError.drain()) }
            var der = [UInt8](repeating: 0, count: Int(length))
            let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
                var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
                return i2d_PUBKEY(key, &cursor)
            }
            guard written == length else { throw CryptoError.openSSL(OpenSSLError.drain()) }
            return Data(SHA256.hash(der).bytes).base64EncodedString()
        }
    }

    private static func withCertificate<T>(_ pem: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        // BIO_new_mem_buf does not copy: the text must stay alive until the read is done.
        try pem.utf8CString.withUnsafeBufferPointer { text in
            guard let bio = BIO_new_mem_buf(text.baseAddress, Int32(text.count - 1)) else {
                throw CryptoError.openSSL(OpenSSLError.drain())
            }
            defer { BIO_free(bio) }
            guard let cert = PEM_read_bio_X509(bio, nil, nil, nil) else {
                throw CryptoError.invalidEncoding("no PEM certificate: \(OpenSSLError.drain())")
            }
            defer { X509_free(cert) }
            return try body(cert)
        }
    }

    private static func fingerprint(of cert: OpaquePointer) throws -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(cert, EVP_sha256(), &digest, &length) == 1 else { throw CryptoError.openSSL(OpenSSLError.drain()) }
        return Hex.encode(digest[0..<Int(length)])
    }
}

/// Collects what an OpenSSL writer puts into a memory BIO.
private enum MemoryBIO {
    static func collect(_ write: (OpaquePointer) -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError.openSSL(OpenSSLError.drain()) }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw CryptoError.openSSL(OpenSSLError.drain()) }
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = secirc_bio_get_mem_data(bio, &data)
        guard let data, length > 0 else { throw CryptoError.openSSL("empty PEM output") }
        return UnsafeRawBufferPointer(start: data, count: length).withMemoryRebound(to: UInt8.self) {
            String(decoding: $0, as: UTF8.self)
        }
    }
}

/// OpenSSL's thread-local error queue as text.
enum OpenSSLError {
    static func drain() -> String {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "unknown error" : messages.joined(separator: "; ")
    }
}
