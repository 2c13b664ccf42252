internal import CJansson

/// The strict front door for untrusted JSON (DESIGN.md §8): jansson parses the bytes with
/// duplicate keys rejected, exactly one top-level object or array and nothing after it, valid
/// UTF-8 and no NUL in strings; nesting is bounded before jansson sees the input.
enum StrictJSON {
    /// Throws `HTTPError` 400 `invalid_json` with a message saying what and where.
    static func validate(_ bytes: [UInt8], maxDepth: Int) throws(HTTPError) {
        if bytes.isEmpty { throw .invalidJSON("request body is empty; expected a JSON object or array") }
        if let offset = depthExceeded(bytes, maxDepth: maxDepth) {
            throw .invalidJSON("JSON nested deeper than \(maxDepth) levels at byte \(offset)")
        }
        var error = json_error_t()
        let root = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { secirc_json_load_strict($0.baseAddress, $0.count, &error) }
        }
        guard let root else { throw .invalidJSON(describe(error)) }
        secirc_json_decref(root)
    }

    /// The offset of the first bracket that opens level `maxDepth + 1`, or nil. Brackets inside
    /// strings do not count; the scan is linear and allocation-free.
    static func depthExceeded(_ bytes: [UInt8], maxDepth: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for (offset, byte) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false }
                else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth { return offset }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return nil
    }

    /// jansson's error as "<text> at line L, column C (byte P)".
    private static func describe(_ error: json_error_t) -> String {
        var copy = error
        let text = withUnsafeBytes(of: &copy.text) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let reason = text.isEmpty ? "invalid JSON" : text
        return "invalid JSON: \(reason) at line \(error.line), column \(error.column) (byte \(error.position))"
    }
}
