import Foundation

/// The C reference programs of ../shared/bench: found, compiled with `cc -O2`, and run.
struct Reference {
    let sourceDirectory: URL
    let buildDirectory: URL

    /// `SECIRC_BENCH_REF_DIR`, else `../shared/bench` from the working directory or from the
    /// package root (two levels above this source file).
    static func locate() throws -> Reference {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["SECIRC_BENCH_REF_DIR"] { candidates.append(explicit) }
        candidates.append(FileManager.default.currentDirectoryPath + "/../shared/bench")
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent("../shared/bench").path)
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/sphinx_hop_ref.c") }) else {
            throw BenchError("C references not found in \(candidates.joined(separator: ", ")); set SECIRC_BENCH_REF_DIR")
        }
        let build = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-bench-ref-\(getpid())")
        try FileManager.default.createDirectory(at: build, withIntermediateDirectories: true)
        return Reference(sourceDirectory: URL(fileURLWithPath: found).standardizedFileURL, buildDirectory: build)
    }

    /// Compiles `name.c` with `cc -O2 ... libraries` and returns the binary's path.
    func compile(_ name: String, libraries: [String]) throws -> String {
        let output = buildDirectory.appendingPathComponent(name).path
        let source = sourceDirectory.appendingPathComponent(name + ".c").path
        let result = try run("/usr/bin/env", ["cc", "-O2", "-o", output, source] + libraries.map { "-l" + $0 })
        guard result.status == 0 else { throw BenchError("cc \(name).c failed: \(result.output)") }
        return output
    }

    /// Runs a program to completion; returns its status and stdout+stderr.
    func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The number after `key` in `output` (lines like `key 123.4`).
    static func value(_ key: String, in output: String) throws -> Double {
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key, let value = Double(parts[1]) { return value }
        }
        throw BenchError("no \(key) in: \(output)")
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Monotonic seconds.
func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
