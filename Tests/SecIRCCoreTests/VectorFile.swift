import Foundation

/// Test-vector files under `Tests/SecIRCCoreTests/Vectors/`. Tests regenerate each vector from a
/// fixed seed and compare it with the checked-in file; with `SECIRC_WRITE_VECTORS=1` they write
/// the file instead (then review the diff and commit it).
enum VectorFile {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")
    }

    static var writing: Bool { ProcessInfo.processInfo.environment["SECIRC_WRITE_VECTORS"] == "1" }

    /// Encodes `value` as stable, pretty JSON.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value) + Data("\n".utf8)
    }

    /// Writes `value` (when writing) or returns the checked-in file decoded as `T`.
    static func check<T: Codable & Equatable>(_ name: String, _ value: T) throws -> (checkedIn: T, generated: T) {
        let url = directory.appendingPathComponent(name)
        if writing { try encode(value).write(to: url, options: .atomic) }
        let data = try Data(contentsOf: url)
        return (try JSONDecoder().decode(T.self, from: data), value)
    }
}
