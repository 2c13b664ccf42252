#if FUZZING
import Glibc

/// The target this process fuzzes, from `SECIRC_FUZZ_TARGET` (read once).
let selectedTarget: FuzzTarget = {
    guard let name = getenv("SECIRC_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget.named(name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
        let message = Array("secirc-fuzz: set SECIRC_FUZZ_TARGET to one of: \(names)\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(2)
    }
    return target
}()

/// libFuzzer's entry point (the fuzzer runtime supplies `main`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selectedTarget.run(input)
    return 0
}
#else
import Foundation

/// Without `-sanitize=fuzzer` (a normal build): writes the seed corpus, or runs saved inputs
/// (a corpus, a crash file) through a target, for reproducing a crash under a debugger.
@main
struct FuzzCommand {
    static let usage = """
        usage: secirc-fuzz seeds <directory>            write the seed corpus (<directory>/<target>/...)
               secirc-fuzz run <target> <file|dir>...   run inputs through a target
               secirc-fuzz list                         the targets
        """

    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "seeds" where arguments.count == 2:
            let written = try SeedCorpus.write(to: URL(fileURLWithPath: arguments[1]))
            print("wrote \(written) seeds")
        case "run" where arguments.count >= 3:
            guard let target = FuzzTarget.named(arguments[1]) else { fail("unknown target \(arguments[1])") }
            var count = 0
            for path in arguments.dropFirst(2) {
                for file in try files(at: path) {
                    target.run(Array(try Data(contentsOf: file)))
                    count += 1
                }
            }
            print("\(target.rawValue): \(count) inputs ran")
        case "list":
            for target in FuzzTarget.allCases { print(target.rawValue) }
        default:
            fail(usage)
        }
    }

    static func files(at path: String) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { fail("no such file: \(path)") }
        let url = URL(fileURLWithPath: path)
        guard isDirectory.boolValue else { return [url] }
        return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}
#endif
