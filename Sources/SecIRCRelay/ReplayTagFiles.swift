import Foundation
import Glibc
import SecIRCCore
import SecIRCLock

/// The replay tags a relay recorded, one append-only file per onion-key epoch in
/// `<data>/replay-tags/<epoch>` (0600, in a 0700 directory): 8 bytes a tag, in the order seen.
/// Appended on the relay's loop before the turn's datagrams leave, so a packet peeled before a
/// restart is refused as a replay after it (a process crash loses nothing: the bytes are in the
/// kernel's page cache; a power cut may lose the last seconds, as nothing is synced per packet).
/// An epoch's file goes when the epoch is retired. At start, the files of the restored epochs
/// are read back (a torn last tag is ignored) and the others removed.
final class ReplayTagFiles: Sendable {
    static let directoryName = "replay-tags"

    let directory: String
    private let descriptors = Locked<[UInt32: Int32]>([:])

    init(dataDirectory: String) {
        directory = dataDirectory + "/" + Self.directoryName
    }

    deinit {
        descriptors.withLock { for fd in $0.values { close(fd) } }
    }

    private func path(_ epoch: UInt32) -> String { directory + "/\(epoch)" }

    /// The saved tags of `epochs`, each file read up to `maximum` tags; files of other epochs
    /// are removed.
    func load(epochs: Set<UInt32>, maximum: Int) throws(StateFileError) -> [UInt32: [ReplayFilter.Tag]] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [:] }
        var tags: [UInt32: [ReplayFilter.Tag]] = [:]
        for name in names {
            guard let epoch = UInt32(name), epochs.contains(epoch) else {
                try? FileManager.default.removeItem(atPath: directory + "/" + name)
                continue
            }
            guard let data = FileManager.default.contents(atPath: path(epoch)) else {
                throw StateFileError(path: path(epoch), reason: "cannot be read (move it away: packets seen before the restart could then be replayed once)")
            }
            let count = min(data.count / 8, maximum)
            tags[epoch] = data.withUnsafeBytes { raw in
                (0..<count).map { ReplayFilter.Tag(rawValue: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
            }
        }
        return tags
    }

    /// Appends `records` to their epochs' files. Throws when a file cannot be written.
    func append(_ records: [(epoch: UInt32, tag: ReplayFilter.Tag)]) throws(StateFileError) {
        var byEpoch: [UInt32: [UInt64]] = [:]
        for record in records { byEpoch[record.epoch, default: []].append(record.tag.rawValue) }
        for (epoch, values) in byEpoch {
            let fd = try descriptor(epoch)
            let written = values.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == values.count * 8 else {
                throw StateFileError(path: path(epoch), reason: "write failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Removes the epoch's file.
    func forget(_ epoch: UInt32) {
        if let fd = descriptors.withLock({ $0.removeValue(forKey: epoch) }) { close(fd) }
        unlink(path(epoch))
    }

    private func descriptor(_ epoch: UInt32) throws(StateFileError) -> Int32 {
        if let fd = descriptors.withLock({ $0[epoch] }) { return fd }
        mkdir(directory, 0o700)
        let fd = open(path(epoch), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateFileError(path: path(epoch), reason: String(cString: strerror(errno))) }
        descriptors.withLock { $0[epoch] = fd }
        return fd
    }
}
