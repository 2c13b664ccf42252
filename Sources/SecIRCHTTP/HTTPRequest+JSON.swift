internal import Foundation

extension HTTPRequest {
    /// Decodes the body as `T`, strictly: first jansson (duplicate keys, depth over `maxDepth`,
    /// trailing bytes, invalid UTF-8, a scalar at the top level → 400 `invalid_json`), then
    /// `JSONDecoder` (missing field, wrong type → 400 `invalid_request` naming the field path,
    /// e.g. `peers[2].port`).
    public func decodeJSON<T: Decodable>(_ type: T.Type, maxDepth: Int = 32) throws(HTTPError) -> T {
        try StrictJSON.validate(body, maxDepth: maxDepth)
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw .invalidRequest(Self.describe(error))
        } catch {
            throw .invalidRequest("request body does not match the expected shape")
        }
    }

    /// A message naming the field; never the value.
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .typeMismatch(type, context):
            return "field '\(path(context.codingPath))': expected \(typeName(type))"
        case let .valueNotFound(type, context):
            return "field '\(path(context.codingPath))': expected \(typeName(type)), found null"
        case let .keyNotFound(key, context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return "request body is not valid JSON for this request" }
            return "field '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "request body does not match the expected shape"
        }
    }

    /// `a.b[2].c`; `$` for the top level.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                if !out.isEmpty { out += "." }
                out += key.stringValue
            }
        }
        return out.isEmpty ? "$" : out
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int8.Type, is Int16.Type, is Int32.Type, is Int64.Type,
             is UInt.Type, is UInt8.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        default:
            if String(describing: type).hasPrefix("Array") { "an array" }
            else if String(describing: type).hasPrefix("Dictionary") { "an object" }
            else { "\(type)" }
        }
    }
}
