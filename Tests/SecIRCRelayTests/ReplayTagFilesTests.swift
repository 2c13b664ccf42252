import Foundation
import SecIRCCore
@testable import SecIRCRelay
import Testing

/// The replay tags on disk: appended per epoch, read back for the restored epochs only, a torn
/// last tag ignored, 0600, and gone with their epoch.
@Suite struct ReplayTagFilesTests {
    @Test func tagsComeBackForTheRestoredEpochsOnly() throws {
        let dir = try RelayStateFilesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = ReplayTagFiles(dataDirectory: dir)
        let tags = (1...5).map { ReplayFilter.Tag(rawValue: UInt64($0) * 0x0101_0101_0101_0101) }
        try files.append([(7, tags[0]), (8, tags[1]), (7, tags[2])])
        try files.append([(7, tags[3]), (9, tags[4])])
        let path7 = files.directory + "/7"
        let mode = try FileManager.default.attributesOfItem(atPath: path7)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // A write cut short by a crash leaves part of a tag: it is ignored.
        let handle = try #require(FileHandle(forWritingAtPath: path7))
        handle.seekToEndOfFile()
        handle.write(Data([1, 2, 3]))
        try handle.close()

        let loaded = try ReplayTagFiles(dataDirectory: dir).load(epochs: [7, 9], maximum: 100)
        #expect(loaded[7] == [tags[0], tags[2], tags[3]])
        #expect(loaded[9] == [tags[4]])
        #expect(loaded[8] == nil)
        #expect(!FileManager.default.fileExists(atPath: files.directory + "/8"), "an epoch no longer accepted is removed")
        #expect(try ReplayTagFiles(dataDirectory: dir).load(epochs: [7], maximum: 2)[7]?.count == 2)

        files.forget(7)
        #expect(!FileManager.default.fileExists(atPath: path7))
        #expect(try ReplayTagFiles(dataDirectory: dir + "/none").load(epochs: [7], maximum: 10).isEmpty)
    }
}
