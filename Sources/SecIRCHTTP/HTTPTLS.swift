public import SecIRCCrypto

/// A certificate chain and private key in PEM, for HTTPS.
public struct HTTPTLS: Sendable {
    /// PEM "CERTIFICATE" (the server's first, then any intermediates).
    public var certificatePEM: String
    /// PEM private key; redacted in descriptions.
    public var privateKeyPEM: Redacted<String>

    public init(certificatePEM: String, privateKeyPEM: Redacted<String>) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }
}
