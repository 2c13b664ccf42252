import Foundation

/// Unbuffered lines to stdout and stderr (so `secirc watch | ...` and `secirc devnet > log`
/// see each line as it happens).
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Writes the API's JSON as received, with a final newline.
    static func json(_ body: [UInt8]) {
        guard !body.isEmpty else { return }
        FileHandle.standardOutput.write(Data(body.last == 10 ? body : body + [10]))
    }
}
