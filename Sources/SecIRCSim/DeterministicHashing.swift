import Glibc

/// Swift seeds its hash functions per process, so the iteration order of dictionaries and sets
/// differs between runs. A simulation must repeat itself exactly: this makes the process run
/// with `SWIFT_DETERMINISTIC_HASHING=1`, starting itself again with it when it is not set.
public enum DeterministicHashing {
    public static func ensure() {
        guard getenv("SWIFT_DETERMINISTIC_HASHING") == nil else { return }
        setenv("SWIFT_DETERMINISTIC_HASHING", "1", 1)
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        // Only reached if exec failed: go on (the run is then not byte-for-byte repeatable).
        let message = Array("secirc-sim: could not restart with deterministic hashing (errno \(errno))\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
