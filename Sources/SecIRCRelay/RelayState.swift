public import SecIRCCore
public import SecIRCCrypto
import Synchronization

/// What the relay's HTTP side and control loop share: the directory it serves, its own signed
/// descriptor, the first-ring duty (when it has one) and readiness. Thread-safe.
public final class RelayState: Sendable {
    /// The directory as served: exact signed bytes, their ETag and the response headers, and the
    /// verified content. Immutable and shared by reference, so serving it costs one retain.
    public final class ServedDirectory: Sendable {
        public let json: [UInt8]
        public let etag: String
        public let headers: [(String, String)]
        public let document: SignedDocument
        public let directory: RelayDirectory
        public let descriptors: [RelayDescriptor]

        init(document: SignedDocument, directory: RelayDirectory, descriptors: [RelayDescriptor]) {
            json = document.jsonBytes()
            etag = "\"\(document.bodyHash.hex)\""
            headers = [("ETag", etag), ("Cache-Control", "no-cache")]
            self.document = document
            self.directory = directory
            self.descriptors = descriptors
        }
    }

    private struct Inner {
        var directory: ServedDirectory?
        var descriptor: SignedDocument?
        var authority: DirectoryAuthority?
        var udpReady = false
        var draining = false
        var descriptorVersion = 0
        var directoryDirty = false
    }

    public let relayID: ID
    public let trustedRoster: Roster
    /// SHA-256 fingerprint of the HTTPS certificate, when HTTPS is on.
    public let tlsFingerprint: String?
    private let inner: Mutex<Inner>

    public init(relayID: ID, trustedRoster: Roster, authority: DirectoryAuthority?, tlsFingerprint: String?) {
        self.relayID = relayID
        self.trustedRoster = trustedRoster
        self.tlsFingerprint = tlsFingerprint
        inner = Mutex(Inner(authority: authority))
    }

    public var directory: ServedDirectory? { inner.withLock { $0.directory } }
    public var descriptor: SignedDocument? { inner.withLock { $0.descriptor } }
    public var isAuthority: Bool { inner.withLock { $0.authority != nil } }
    public var isDraining: Bool { inner.withLock { $0.draining } }

    /// Ready: a directory valid at `now` is held and the UDP socket is up, and not draining.
    public func readiness(now: UnixTime) -> (ready: Bool, reason: String) {
        inner.withLock { s in
            if s.draining { return (false, "draining") }
            if !s.udpReady { return (false, "UDP socket not up") }
            guard let d = s.directory?.directory else { return (false, "no valid directory yet") }
            guard now.seconds >= d.validAfter, now.seconds < d.validUntil else { return (false, "directory expired") }
            return (true, "ready")
        }
    }

    public func setUDPReady() { inner.withLock { $0.udpReady = true } }
    public func setDraining() { inner.withLock { $0.draining = true } }

    /// Installs a directory already verified against the trusted roster.
    public func install(document: SignedDocument, directory: RelayDirectory, descriptors: [RelayDescriptor]) {
        let served = ServedDirectory(document: document, directory: directory, descriptors: descriptors)
        inner.withLock { $0.directory = served }
    }

    /// Sets this relay's own signed descriptor (and gives it to the authority, if any).
    public func setDescriptor(_ document: SignedDocument, now: UnixTime) {
        inner.withLock { s in
            s.descriptor = document
            s.descriptorVersion += 1
            try? s.authority?.setOwn(document)
            s.directoryDirty = true
        }
    }

    /// A count that changes whenever the own descriptor does (to know when to upload again).
    public var descriptorVersion: Int { inner.withLock { $0.descriptorVersion } }

    /// First ring: takes an uploaded descriptor. Throws `HTTP`-ready errors via the authority.
    public func acceptUpload(_ document: SignedDocument, now: UnixTime) throws -> (id: ID, new: Bool) {
        try inner.withLock { s in
            guard var authority = s.authority else { throw UploadRefusal.notFirstRing }
            let before = authority.relayCount
            let id: ID
            do throws(DirectoryAuthority.UploadError) { id = try authority.accept(document, now: now) } catch { throw UploadRefusal.rejected(error) }
            let new = authority.relayCount > before
            if new { s.directoryDirty = true }
            s.authority = authority
            return (id, new)
        }
    }

    public enum UploadRefusal: Error {
        case notFirstRing
        case rejected(DirectoryAuthority.UploadError)
    }

    /// First ring: signs a new directory when `force` or something changed since the last one.
    /// Returns the signed document and the directory, or nil when not the authority / nothing to do.
    public func signDirectoryIfNeeded(now: UnixTime, force: Bool) -> (SignedDocument, RelayDirectory)? {
        inner.withLock { s in
            guard var authority = s.authority, force || s.directoryDirty else { return nil }
            let signed = authority.sign(now: now)
            s.authority = authority
            s.directoryDirty = false
            return signed
        }
    }
}
