import Foundation
import Testing

/// The spin model of the first ring's directory voting protocol (`Models/ring-voting.pml`):
/// `scripts/spin-check.sh` checks it in every configuration and every result is the expected one
/// (safety and liveness hold where the theory says so, and spin finds the counterexamples it
/// says exist; `Models/README.md`).
@Suite struct RingModelTests {
    /// The repository root (this file is `Tests/IntegrationTests/RingModelTests.swift`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func everySpinConfigurationGivesItsExpectedResult() throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let spin = path.split(separator: ":").map { "\($0)/spin" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        try #require(spin != nil, "spin is not installed (Debian package `spin`: scripts/install-deps.sh installs it), so the ring model is not checked")

        // About 30 s on 2 cores; the bound is for a loaded CI machine.
        let result = try Processes.run(executable: Self.root.appendingPathComponent("scripts/spin-check.sh").path, [], timeout: 600)
        let report = result.stdout + result.stderr
        #expect(result.status == 0, "spin-check.sh exited with \(result.status):\n\(report)")
        let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let words = last.split(separator: " ").map(String.init)
        let allAsExpected = words.count == 4 && words[0] == "spin_configurations_as_expected" && words[2] == "of"
            && words[1] == words[3] && (Int(words[3]) ?? 0) > 0
        #expect(allAsExpected, "last line \"\(last)\" does not say every configuration is as expected:\n\(report)")
    }
}
