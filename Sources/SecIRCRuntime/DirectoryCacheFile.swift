import Foundation
public import SecIRCCore
import SecIRCCrypto

/// The last verified directory a relay or a client installed, `<data-dir>/directory-cache.json`:
/// its signed envelope byte for byte, written 0600 through a temporary file and a rename
/// (``KeyFile``). Read back at start and used only when its signatures verify against the
/// trusted roster and it is still valid (``DirectoryTracker/restore(cached:now:)``); its relays
/// are then asked for a newer one when every configured source fails (docs/PROTOCOL.md §3.7).
/// A cache: a missing, unreadable or foreign file never stops start-up.
public struct DirectoryCacheFile: Sendable {
    public static let fileName = "directory-cache.json"

    public let path: String

    public init(dataDirectory: String) {
        path = dataDirectory + "/" + Self.fileName
    }

    /// The saved envelope (not yet verified); nil when there is none. Throws when a file is
    /// there but unreadable, too open (not 0600), too large or not a signed document.
    public func load() throws -> SignedDocument? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let bytes = try KeyFile.read(path, maximumSize: SignedDocument.maximumEncodedLength)
        return try SignedDocument.decode(json: bytes.unsafeCopy())
    }

    /// Replaces the file with `document`.
    public func save(_ document: SignedDocument) throws {
        try KeyFile.write(SecureBytes(document.jsonBytes()), to: path, replace: true)
    }
}
