internal import CCurl
import Foundation
import SecIRCCore
import SecIRCNode

/// One HTTP(S) exchange through libcurl's easy interface, on the calling thread: the only code
/// that touches libcurl (`CCurl`). Bounds, all fixed here:
///
/// - `http` and `https` only, no redirects (a 3xx is an answer like any other), no proxy
///   whatever the environment says (`NOPROXY *`), no signals;
/// - the request's time-out for the whole exchange (connecting included);
/// - an answer body over ``FetchRequest/maximumResponseBytes`` (declared or received) and
///   headers over ``maximumHeaderBytes`` end the exchange as a failure;
/// - TLS: with a pin in the URL (`#spki=<base64>`, stripped before the request) the server's key
///   must be the pinned one (`CURLOPT_PINNEDPUBLICKEY sha256//…`) and nothing else about its
///   certificate is checked (a relay's certificate is self-signed: the pin is the trust);
///   without a pin, the system's certificate authorities and the host name, as usual.
enum CurlExchange {
    static let maximumHeaderBytes = 64 << 10

    /// libcurl's global set-up, once, before the first handle (it is not thread-safe itself).
    private static let ready: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK

    /// What the callbacks collect; lives for one `perform` on its thread.
    private final class Sink {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
        var headerBytes = 0
        var overflow = false
    }

    /// Letters, digits, `-._~=&`: what a pinned URL's query may hold.
    static func isQueryByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "-._~=&".utf8.contains(byte)
        }
    }

    static func perform(_ request: FetchRequest) -> FetchResponse {
        func failed(_ failure: FetchFailure) -> FetchResponse { FetchResponse(id: request.id, status: nil, failure: failure) }

        let wire: String
        let pin: String?
        if let hash = request.url.firstIndex(of: "#") {
            // A fragment is only ever a pin, and then the URL must be a strict bootstrap URL, but
            // for a query of letters, digits, -._~ = and & (`/v1/directory?since=41`).
            let beforePin = request.url[..<hash]
            let question = beforePin.firstIndex(of: "?") ?? beforePin.endIndex
            let query = beforePin[question...]
            guard query.utf8.dropFirst().allSatisfy({ Self.isQueryByte($0) }) else {
                return failed(.transport("malformed URL: a pinned URL's query may hold only letters, digits, -._~ = and &"))
            }
            do {
                let url = try BootstrapURL(String(beforePin[..<question]) + String(request.url[hash...]))
                (wire, pin) = (url.url("") + String(query), url.pinBase64)
            } catch {
                return failed(.transport("malformed URL: \(error)"))
            }
        } else {
            (wire, pin) = (request.url, nil)
        }
        guard ready, let curl = curl_easy_init() else { return failed(.transport("libcurl could not start")) }
        defer { curl_easy_cleanup(curl) }

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        // No "Expect: 100-continue" round trip before a body.
        for line in ["Expect:"] + request.headers.sorted(by: { $0.key < $1.key }).map({ "\($0.key): \($0.value)" }) {
            guard !line.contains("\r"), !line.contains("\n") else { return failed(.transport("header with a line break")) }
            headerList = curl_slist_append(headerList, line)
        }

        let errorText = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorText.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorText.deallocate() }

        let sink = Sink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let (seconds, attoseconds) = request.timeout.components
        let milliseconds = max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))

        var code = CURLE_OK
        func set(_ result: CURLcode) { if code == CURLE_OK { code = result } }
        set(secirc_curl_setopt_string(curl, CURLOPT_URL, wire))
        set(secirc_curl_setopt_string(curl, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(secirc_curl_setopt_long(curl, CURLOPT_FOLLOWLOCATION, 0))
        set(secirc_curl_setopt_string(curl, CURLOPT_NOPROXY, "*"))
        set(secirc_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1))
        set(secirc_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, milliseconds))
        set(secirc_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, milliseconds))
        set(secirc_curl_setopt_off(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(FetchRequest.maximumResponseBytes)))
        set(secirc_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorText))
        set(secirc_curl_setopt_pointer(curl, CURLOPT_HTTPHEADER, headerList))
        set(secirc_curl_setopt_write(curl, CURLOPT_WRITEFUNCTION, curlBody))
        set(secirc_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, context))
        set(secirc_curl_setopt_write(curl, CURLOPT_HEADERFUNCTION, curlHeader))
        set(secirc_curl_setopt_pointer(curl, CURLOPT_HEADERDATA, context))
        if let pin {
            set(secirc_curl_setopt_string(curl, CURLOPT_PINNEDPUBLICKEY, "sha256//" + pin))
            set(secirc_curl_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, 0))
            set(secirc_curl_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, 0))
        }
        switch request.method {
        case .get:
            set(secirc_curl_setopt_long(curl, CURLOPT_HTTPGET, 1))
        case .post:
            let body = request.body ?? []
            set(secirc_curl_setopt_long(curl, CURLOPT_POST, 1))
            set(secirc_curl_setopt_off(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            if body.isEmpty {
                set(secirc_curl_setopt_string(curl, CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                set(body.withUnsafeBytes { secirc_curl_setopt_pointer(curl, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) })
            }
        }
        guard code == CURLE_OK else { return failed(.transport("libcurl refused an option: \(message(code, errorText))")) }

        code = withExtendedLifetime(sink) { curl_easy_perform(curl) }
        switch code {
        case CURLE_OK:
            break
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return failed(.pinMismatch(message(code, errorText)))
        case CURLE_PEER_FAILED_VERIFICATION:
            return failed(.certificate(message(code, errorText)))
        case CURLE_FILESIZE_EXCEEDED:
            return failed(.transport("answer larger than \(FetchRequest.maximumResponseBytes) bytes"))
        case CURLE_WRITE_ERROR where sink.overflow:
            return failed(.transport("answer larger than its limit (body \(FetchRequest.maximumResponseBytes) bytes, headers \(maximumHeaderBytes))"))
        default:
            return failed(.transport(message(code, errorText)))
        }
        var status = 0
        guard secirc_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK, (100...599).contains(status) else {
            return failed(.transport("no HTTP status"))
        }
        return FetchResponse(id: request.id, status: status, headers: sink.headers, body: sink.body)
    }

    private static func message(_ code: CURLcode, _ buffer: UnsafeMutablePointer<CChar>) -> String {
        let detail = String(cString: buffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }

    /// CURLOPT_WRITEFUNCTION: appends to the sink; returning less than given ends the exchange.
    private static let curlBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
        data, size, count, context in
        guard let data, let context else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        guard sink.body.count + length <= FetchRequest.maximumResponseBytes else {
            sink.overflow = true
            return 0
        }
        sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
        return length
    }

    /// CURLOPT_HEADERFUNCTION: one header line at a time (the status line and the blank line
    /// too); names in lower case. A new status line (after a 1xx) starts the headers again.
    private static let curlHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
        data, size, count, context in
        guard let data, let context else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        sink.headerBytes += length
        guard sink.headerBytes <= maximumHeaderBytes else {
            sink.overflow = true
            return 0
        }
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            sink.headers = [:]
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            sink.headers[name] = value
        }
        return length
    }
}
