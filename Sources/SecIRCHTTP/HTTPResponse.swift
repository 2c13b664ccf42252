internal import Foundation

/// What a handler answers. `Content-Length`, `Transfer-Encoding`, `Connection` and `Date` are
/// the server's: such headers set here are ignored, as is any header whose name or value
/// contains CR, LF or NUL.
public struct HTTPResponse: Sendable {
    /// The body: bytes, or a Server-Sent Events stream that stays open.
    public enum Body: Sendable {
        case bytes([UInt8])
        case stream(HTTPEventStream)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = .bytes(body)
    }

    /// The bytes of a `.bytes` body; empty for a stream.
    public var bodyBytes: [UInt8] {
        if case let .bytes(bytes) = body { return bytes }
        return []
    }

    /// The value of the first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0.lowercased() == lowered }?.1
    }

    /// `value` as `application/json` with sorted keys and unescaped slashes. A value that cannot
    /// be encoded gives the generic 500 (the encoder's error text is not sent).
    public static func json<T: Encodable>(_ value: T, status: Int = 200) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return .error(.internalError) }
        return jsonBytes(Array(data), status: status)
    }

    /// Bytes that already are JSON (e.g. a signed document kept in its canonical form).
    public static func jsonBytes(_ bytes: [UInt8], status: Int = 200, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: bytes)
    }

    public static func text(_ text: String, status: Int = 200,
                            contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// `{"error":{"code":"...","message":"..."}}` with the error's status.
    public static func error(_ error: HTTPError) -> HTTPResponse {
        jsonBytes(ErrorBody.encode(error), status: error.status)
    }

    /// A `text/event-stream` response that stays open until the stream or the server closes.
    public static func eventStream(_ stream: HTTPEventStream) -> HTTPResponse {
        var response = HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"),
                                                           ("Cache-Control", "no-cache")])
        response.body = .stream(stream)
        return response
    }

    /// 204 without a body.
    public static let noContent = HTTPResponse(status: 204)
}

/// The JSON error envelope, written by hand so it can never fail and its form is fixed.
enum ErrorBody {
    static func encode(_ error: HTTPError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(48 + error.code.utf8.count + error.message.utf8.count)
        out += Array(#"{"error":{"code":"#.utf8)
        appendString(error.code, to: &out)
        out += Array(#","message":"#.utf8)
        appendString(error.message, to: &out)
        out += Array("}}".utf8)
        return out
    }

    /// A JSON string literal (RFC 8259 escapes; other characters as UTF-8).
    static func appendString(_ text: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                out += Array("\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
