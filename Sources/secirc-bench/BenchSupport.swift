import Foundation
import SecIRCAPI
import SecIRCLauncher

/// Blocking HTTP for the benchmarks (they are plain command-line programs), through the
/// project's one HTTP client.
enum BlockingHTTP {
    /// `method url` (`http://127.0.0.1:port/path`) with an optional JSON body; the status and
    /// body, or nil when no answer came.
    static func request(_ url: String, method: String = "GET", body: [UInt8]? = nil) -> (status: Int, body: Data)? {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let client = try? APIClient(baseURL: "http://" + rest[..<slash], timeout: 5),
              let response = try? client.send(method, slash == rest.endIndex ? "/" : String(rest[slash...]), body: body)
        else { return nil }
        return (response.status, Data(response.body))
    }

    static func json(_ url: String) -> [String: Any]? {
        guard let (status, data) = request(url), status == 200 else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }
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

/// Starts a devnet with `options` (its progress on stderr), runs `body` on it and stops it: its
/// directory is removed when `body` returned, kept and named on stderr when it threw.
func withBenchDevnet<T>(_ options: DevnetOptions, _ body: (Devnet) throws -> T) throws -> T {
    let devnet = Devnet(options: options, progress: { FileHandle.standardError.write(Data("devnet: \($0)\n".utf8)) })
    var succeeded = false
    defer {
        devnet.stop()
        if succeeded { devnet.removeDirectory() } else if !devnet.directory.isEmpty {
            FileHandle.standardError.write(Data("logs kept in \(devnet.directory)\n".utf8))
        }
    }
    try devnet.start()
    let result = try body(devnet)
    succeeded = true
    return result
}
