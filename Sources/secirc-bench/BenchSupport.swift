import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// Blocking HTTP for the benchmarks (they are plain command-line programs).
enum BlockingHTTP {
    static func request(_ url: String, method: String = "GET", body: [UInt8]? = nil) -> (status: Int, body: Data)? {
        guard let target = URL(string: url) else { return nil }
        var request = URLRequest(url: target, timeoutInterval: 5)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let result = Mutex<(Int, Data)?>(nil)
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, _ in
            if let status = (response as? HTTPURLResponse)?.statusCode { result.withLock { $0 = (status, data ?? Data()) } }
            done.signal()
        }.resume()
        done.wait()
        return result.withLock { $0 }
    }

    static func json(_ url: String) -> [String: Any]? {
        guard let (status, data) = request(url), status == 200 else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass.
    static func wait(_ what: String, seconds: Double = 30, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw BenchError("timed out waiting for \(what)")
    }
}

/// A free loopback port (bound and released).
func freePort(udp: Bool) -> UInt16 {
    let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: address.sin_port)
}

/// Resident memory of a process in MiB (`VmRSS`, or `VmHWM` for the peak).
func residentMiB(pid: Int32, peak: Bool = false) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    let key = peak ? "VmHWM:" : "VmRSS:"
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }),
          let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true)[1])
    else { return 0 }
    return kib / 1024
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// The package root (for building and finding products), from this source file's location.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
