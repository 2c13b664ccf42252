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

/// The roster changes a client followed (docs/PROTOCOL.md §3.5), `<data-dir>/roster-changes.json`:
/// a JSON array of the signed change envelopes, written 0600 like the directory cache. Read back
/// at start and checked again along the chain from the configured roster
/// (``ClientEngine/restore(rosterChanges:)``), so a directory cached under a later roster still
/// verifies after a restart. A missing or unreadable file starts from the configured roster.
public struct RosterChangesFile: Sendable {
    public static let fileName = "roster-changes.json"

    public let path: String

    public init(dataDirectory: String) {
        path = dataDirectory + "/" + Self.fileName
    }

    /// The saved changes (not yet verified); empty when there are none.
    public func load() throws -> [SignedDocument] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let bytes = try KeyFile.read(path, maximumSize: SignedDocument.maximumEncodedLength)
        return try RosterChainAnswer.decode(json: bytes.unsafeCopy()).changes
    }

    /// Replaces the file with `changes`.
    public func save(_ changes: [SignedDocument], roster: Roster) throws {
        let answer = RosterChainAnswer(epoch: roster.epoch, roster: roster, changes: changes)
        try KeyFile.write(SecureBytes(answer.jsonBytes()), to: path, replace: true)
    }
}
