internal import Foundation

extension HTTPRequest {
    /// Decodes the body as `T`, strictly, in this order:
    /// 1. the media type: a body must come with `Content-Type: application/json` (any case,
    ///    parameters allowed, a `charset` only UTF-8), else 415 `unsupported_media_type`; an empty
    ///    body without a `Content-Type` goes on to step 2, which refuses it;
    /// 2. jansson (duplicate keys, depth over `maxDepth`, trailing bytes, invalid UTF-8, a NUL in
    ///    a string, an integer beyond 64 bits, a scalar at the top level → 400 `invalid_json`);
    /// 3. `JSONDecoder` (missing field, wrong type → 400 `invalid_request` naming the field path,
    ///    e.g. `peers[2].port`);
    /// 4. the fields: `T`'s own encoding names the keys it takes, so a key it does not encode
    ///    (a typo, a field of another version) or a `null` where it encodes nothing is 400
    ///    `invalid_request` naming the field: what the specs write as `additionalProperties: false`.
    public func decodeJSON<T: Codable>(_ type: T.Type, maxDepth: Int = 32) throws(HTTPError) -> T {
        try requireJSONMediaType()
        try StrictJSON.validate(body, maxDepth: maxDepth)
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw .invalidRequest(Self.describe(error))
        } catch {
            throw .invalidRequest("request body does not match the expected shape")
        }
        try Self.refuseUnknownFields(sent: body, understood: value)
        return value
    }

    /// Step 1 of `decodeJSON`: 415 unless the body is declared JSON.
    func requireJSONMediaType() throws(HTTPError) {
        guard let contentType = header("content-type") else {
            if body.isEmpty { return }
            throw .unsupportedMediaType("a request body needs Content-Type: application/json")
        }
        guard Self.isJSON(contentType: contentType) else {
            throw .unsupportedMediaType("the body must be JSON, sent with Content-Type: application/json")
        }
    }

    /// `application/json` in any case, optionally followed by `;` parameters; a `charset`
    /// parameter must name UTF-8 (RFC 8259: JSON between systems is UTF-8).
    static func isJSON(contentType: String) -> Bool {
        let parts = contentType.split(separator: ";", omittingEmptySubsequences: false).map { ASCII.lowercased(trimmed($0)) }
        guard parts.first == "application/json" else { return false }
        for parameter in parts.dropFirst() {
            guard let equals = parameter.firstIndex(of: "=") else { return false }
            let name = trimmed(parameter[..<equals])
            var value = trimmed(parameter[parameter.index(after: equals)...])
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            if name.isEmpty || (name == "charset" && value != "utf-8" && value != "utf8") { return false }
        }
        return true
    }

    private static func trimmed(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    /// Step 4 of `decodeJSON`: every key sent must be one `understood` encodes back.
    static func refuseUnknownFields<T: Encodable>(sent: [UInt8], understood: T) throws(HTTPError) {
        guard let sentTree = try? JSONSerialization.jsonObject(with: Data(sent)),
              let encoded = try? JSONEncoder().encode(understood),
              let understoodTree = try? JSONSerialization.jsonObject(with: encoded)
        else { throw .invalidRequest("request body does not match the expected shape") }
        if let problem = unknownField(sent: sentTree, understood: understoodTree, path: "") {
            throw .invalidRequest(problem)
        }
    }

    /// The first key (in sorted order, depth first) of `sent` that `understood` lacks, as a
    /// message naming it (`a.b[2].c`).
    private static func unknownField(sent: Any, understood: Any, path: String) -> String? {
        if let object = sent as? [String: Any] {
            let known = understood as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let here = path.isEmpty ? key : path + "." + key
                guard let understoodValue = known[key] else {
                    let name = here.count > 80 ? here.prefix(80) + "…" : here   // the client's own text, bounded
                    return object[key] is NSNull ? "field '\(name)' may not be null; leave it out" : "unknown field '\(name)'"
                }
                if let problem = unknownField(sent: object[key]!, understood: understoodValue, path: here) { return problem }
            }
        } else if let array = sent as? [Any], let understoodArray = understood as? [Any], array.count == understoodArray.count {
            for (index, pair) in zip(array, understoodArray).enumerated() {
                if let problem = unknownField(sent: pair.0, understood: pair.1, path: path + "[\(index)]") { return problem }
            }
        }
        return nil
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
