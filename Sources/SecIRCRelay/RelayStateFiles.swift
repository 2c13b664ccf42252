import Foundation
public import SecIRCCore
import SecIRCCrypto
internal import SecIRCHTTP
public import SecIRCNode

/// What a relay keeps across restarts in its data directory, besides its identity and link keys:
/// - `onion-keys`: the onion key ring (current, next and previous keys with their epochs and
///   times; ``OnionKeyRing`` `+Persistence` gives the format), so packets built against keys
///   it published before a restart still peel;
/// - `directory.json` (first ring only): the last directory it signed, so its serial never goes
///   back and the next directory links this one;
/// - `admission.json` (first ring only): the operator's allow and ban lists
///   (`{"version":1,"allowed":[hex IDs],"banned":[hex IDs]}`), so a banned relay stays banned.
/// - `governance.json`: the roster changes in force and what this relay signed for which
///   epoch (``GovernanceState``), so a restart keeps the roster and never signs a rival change.
///
/// All are written 0600 through a temporary file, fsync, rename and fsync of the directory
/// (``KeyFile``), on the relay's loop before the turn's datagrams and requests leave. A file
/// that cannot be read or decoded stops start-up with an error naming it; a missing one starts
/// afresh.
public struct RelayStateFiles: Sendable {
    public static let onionKeysName = "onion-keys"
    public static let directoryName = "directory.json"
    public static let admissionName = "admission.json"
    /// Two lists of 10,000 IDs (67 bytes each in JSON) fit.
    public static let maximumAdmissionBytes = 2 << 20
    /// A signed directory of 10,000 relays stays well under this.
    public static let maximumDirectoryBytes = 32 << 20

    public let dataDirectory: String

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    public static let governanceName = "governance.json"
    public var governancePath: String { dataDirectory + "/" + Self.governanceName }
    public var onionKeysPath: String { dataDirectory + "/" + Self.onionKeysName }
    public var directoryPath: String { dataDirectory + "/" + Self.directoryName }
    public var admissionPath: String { dataDirectory + "/" + Self.admissionName }

    /// The operator's allow and ban lists; empty ones when there is no file yet.
    public func loadAdmission() throws(StateFileError) -> AdmissionLists {
        guard let bytes = try read(admissionPath, maximumSize: Self.maximumAdmissionBytes) else { return AdmissionLists() }
        return try Self.decodeAdmission(bytes.unsafeCopy(), path: admissionPath)
    }

    public func saveAdmission(_ lists: AdmissionLists) throws(StateFileError) {
        try write(SecureBytes(Self.encodeAdmission(lists)), to: admissionPath)
    }

    /// `admission.json`'s bytes: strict JSON (duplicate keys, depth, size), known fields only,
    /// at most ``AdmissionLists/maximumEntries`` per list; errors name `path`.
    static func decodeAdmission(_ bytes: [UInt8], path: String) throws(StateFileError) -> AdmissionLists {
        guard bytes.count <= maximumAdmissionBytes else { throw StateFileError(path: path, reason: "larger than \(maximumAdmissionBytes) bytes") }
        // The HTTP API's strict decoder (jansson first, then only known fields).
        let request = HTTPRequest(method: .post, path: "/", headers: ["content-type": "application/json"], body: bytes)
        do {
            return try request.decodeJSON(AdmissionLists.self)
        } catch {
            throw StateFileError(path: path, reason: "\(error.message) (fix it, or move it away to start with empty lists)")
        }
    }

    static func encodeAdmission(_ lists: AdmissionLists) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(lists)) ?? Data()) // sets of IDs and a number always encode
    }

    /// The saved onion key ring; nil when there is none yet.
    public func loadOnionKeys() throws(StateFileError) -> OnionKeyRing.Saved? {
        guard let bytes = try read(onionKeysPath, maximumSize: 4096) else { return nil }
        do {
            return try OnionKeyRing.decode(bytes)
        } catch {
            throw StateFileError(path: onionKeysPath, reason: "\(error) (move it away to start with new onion keys)")
        }
    }

    public func saveOnionKeys(_ saved: OnionKeyRing.Saved) throws(StateFileError) {
        try write(OnionKeyRing.encode(saved), to: onionKeysPath)
    }

    /// The last directory this first ring signed, decoded but not yet verified (the engine
    /// checks its signatures: ``RelayEngine/restore(signedDirectory:now:)``); nil when none.
    public func loadDirectory() throws(StateFileError) -> SignedDocument? {
        guard let bytes = try read(directoryPath, maximumSize: Self.maximumDirectoryBytes) else { return nil }
        do {
            return try SignedDocument.decode(json: bytes.unsafeCopy())
        } catch {
            throw StateFileError(path: directoryPath, reason: "not a signed document: \(error) (move it away to start again at serial 1)")
        }
    }

    public func saveDirectory(_ document: SignedDocument) throws(StateFileError) {
        try write(SecureBytes(document.jsonBytes()), to: directoryPath)
    }

    /// What governance kept (its changes are checked again by the engine); nil when none.
    public func loadGovernance() throws(StateFileError) -> GovernanceState? {
        guard let bytes = try read(governancePath, maximumSize: Self.maximumDirectoryBytes) else { return nil }
        do {
            return try JSONDecoder().decode(GovernanceState.self, from: Data(bytes.unsafeCopy()))
        } catch {
            throw StateFileError(path: governancePath,
                                 reason: "\(error) (move it away to follow the roster changes from the network again)")
        }
    }

    public func saveGovernance(_ state: GovernanceState) throws(StateFileError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Strings, numbers and hex only: encoding cannot fail.
        try write(SecureBytes(Array(try! encoder.encode(state))), to: governancePath)
    }

    private func read(_ path: String, maximumSize: Int) throws(StateFileError) -> SecureBytes? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try KeyFile.read(path, maximumSize: maximumSize)
        } catch let CryptoError.keyFile(_, reason) {
            throw StateFileError(path: path, reason: reason)
        } catch {
            throw StateFileError(path: path, reason: "\(error)")
        }
    }

    private func write(_ bytes: SecureBytes, to path: String) throws(StateFileError) {
        do {
            try KeyFile.write(bytes, to: path, replace: true)
        } catch let CryptoError.keyFile(failing, reason) {
            throw StateFileError(path: failing, reason: reason)
        } catch {
            throw StateFileError(path: path, reason: "\(error)")
        }
    }
}
