import Foundation

/// An incremental HTTP/1.1 response parser: feed it what the socket gives, in pieces of any
/// size, and it hands back the decoded body bytes (Content-Length, chunked, or until close).
/// 1xx interim responses are skipped. No I/O; a value type, so tests drive it byte by byte.
public struct HTTPResponseParser: Sendable {
    /// The most bytes a status line with its headers may take.
    public static let maxHeadBytes = 65_536
    /// The longest chunk-size line (hex digits, extensions).
    static let maxChunkLineBytes = 4_096

    private enum State: Equatable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailer
        case untilClose
        case done
    }

    private var state = State.head
    private var buffer: [UInt8] = []
    private var bodyBytes = 0
    private let maxBodyBytes: Int

    /// The head, once it has been read.
    public private(set) var head: HTTPResponseHead?

    /// True once the whole response has been read.
    public var isComplete: Bool { state == .done }

    /// `maxBodyBytes` bounds the decoded body (a streaming reader passes `Int.max`).
    public init(maxBodyBytes: Int = 64 << 20) {
        self.maxBodyBytes = maxBodyBytes
    }

    /// Parses `input`; returns the body bytes it completed (possibly none). Bytes after the end
    /// of the response are ignored (requests are sent with `Connection: close`).
    public mutating func consume(_ input: some Sequence<UInt8>) throws(HTTPParseError) -> [UInt8] {
        buffer.append(contentsOf: input)
        var body: [UInt8] = []
        var index = 0
        parsing: while true {
            switch state {
            case .head:
                guard let end = Self.find([13, 10, 13, 10], in: buffer, from: index) else {
                    if buffer.count - index > Self.maxHeadBytes { throw .headTooLarge }
                    break parsing
                }
                guard end - index <= Self.maxHeadBytes else { throw .headTooLarge }
                let parsed = try Self.parseHead(buffer[index..<end])
                index = end + 4
                if (100..<200).contains(parsed.status) { continue parsing }
                head = parsed
                state = try Self.framing(of: parsed)
            case .fixed(let remaining), .chunkData(let remaining):
                let count = min(remaining, buffer.count - index)
                bodyBytes += count
                if bodyBytes > maxBodyBytes { throw .bodyTooLarge(limit: maxBodyBytes) }
                body.append(contentsOf: buffer[index..<(index + count)])
                index += count
                let left = remaining - count
                if case .fixed = state {
                    state = left == 0 ? .done : .fixed(remaining: left)
                } else {
                    state = left == 0 ? .chunkDataEnd : .chunkData(remaining: left)
                }
                if left > 0 { break parsing }
            case .chunkSize:
                guard let end = Self.find([13, 10], in: buffer, from: index) else {
                    if buffer.count - index > Self.maxChunkLineBytes { throw .invalidChunk("size line too long") }
                    break parsing
                }
                let size = try Self.chunkSize(buffer[index..<end])
                index = end + 2
                state = size == 0 ? .trailer : .chunkData(remaining: size)
            case .chunkDataEnd:
                guard buffer.count - index >= 2 else { break parsing }
                guard buffer[index] == 13, buffer[index + 1] == 10 else { throw .invalidChunk("no CRLF after chunk data") }
                index += 2
                state = .chunkSize
            case .trailer:
                guard let end = Self.find([13, 10], in: buffer, from: index) else {
                    if buffer.count - index > Self.maxHeadBytes { throw .headTooLarge }
                    break parsing
                }
                state = end == index ? .done : .trailer
                index = end + 2
            case .untilClose:
                bodyBytes += buffer.count - index
                if bodyBytes > maxBodyBytes { throw .bodyTooLarge(limit: maxBodyBytes) }
                body.append(contentsOf: buffer[index...])
                index = buffer.count
                break parsing
            case .done:
                index = buffer.count
                break parsing
            }
        }
        buffer.removeFirst(index)
        return body
    }

    /// The connection has ended: completes a response delimited by close, or throws
    /// ``HTTPParseError/truncated``.
    public mutating func finish() throws(HTTPParseError) {
        switch state {
        case .untilClose, .done: state = .done
        default: throw .truncated
        }
    }

    // MARK: Pieces

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count - start >= needle.count else { return nil }
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] {
                var matched = true
                for j in 1..<needle.count where haystack[i + j] != needle[j] {
                    matched = false
                    break
                }
                if matched { return i }
            }
            i += 1
        }
        return nil
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPResponseHead {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")[...]
        let statusLine = lines.popFirst() ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3,
              let status = Int(parts[1]), (100...599).contains(status)
        else { throw .invalidStatusLine(String(statusLine.prefix(200))) }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  !line[..<colon].contains(where: { $0 == " " || $0 == "\t" })
            else { throw .invalidHeader(String(line.prefix(200))) }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        return HTTPResponseHead(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers)
    }

    private static func framing(of head: HTTPResponseHead) throws(HTTPParseError) -> State {
        if let coding = head.headers["transfer-encoding"] {
            let last = coding.split(separator: ",").last?.trimmingCharacters(in: .whitespaces).lowercased()
            return last == "chunked" ? .chunkSize : .untilClose
        }
        if head.status == 204 || head.status == 304 { return .done }
        if let value = head.headers["content-length"] {
            // Repeated identical values ("5, 5") are one length; differing ones are an attack.
            let values = Set(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            guard values.count == 1, let text = values.first, !text.isEmpty, text.count <= 18,
                  text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let length = Int(text)
            else { throw .invalidContentLength(String(value.prefix(100))) }
            return length == 0 ? .done : .fixed(remaining: length)
        }
        return .untilClose
    }

    private static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        let text = String(decoding: line, as: UTF8.self)
        let digits = text.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(\.isHexDigit), let size = Int(digits, radix: 16) else {
            throw .invalidChunk("size \"\(text.prefix(40))\"")
        }
        return size
    }
}
