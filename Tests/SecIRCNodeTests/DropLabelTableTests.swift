import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// docs/PROTOCOL.md §9 lists every drop label with the check that counts it; these tests keep
/// its tables and the code's labels the same sets, so a new label cannot go undocumented and a
/// documented one cannot disappear from the code.
@Suite struct DropLabelTableTests {
    /// The labels each table of §9 must list, by the start of the table's heading.
    static let expected: [(heading: String, labels: [String])] = [
        ("9.2 Handshake admission", HandshakeRefusal.allCases.map(\.rawValue)),
        ("9.3 Link layer", LinkDropReason.allCases.map(\.rawValue)),
        ("9.4 Sphinx", SphinxRejectReason.allCases.map(\.rawValue)),
        ("9.5 Mailbox store", MailboxStore.DropReason.allCases.map(\.rawValue)),
        ("9.6 Relay data plane", RelayDropReason.allCases.map(\.rawValue)),
        ("9.7 Client network engine", ClientDropReason.allCases.map(\.rawValue)),
        ("9.8 Client messenger", ReceiveDropReason.allCases.map(\.rawValue)),
    ]

    static func protocolText() throws -> String {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/PROTOCOL.md")
        return try String(contentsOf: file, encoding: .utf8)
    }

    /// The first-column labels (`| `label` | …`) of the table under each `### 9.x` heading.
    static func tables(in text: String) -> [String: [String]] {
        var tables: [String: [String]] = [:]
        var heading: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { heading = nil }
            if line.hasPrefix("### 9.") {
                heading = String(line.dropFirst(4))
                tables[heading!] = []
                continue
            }
            guard let current = heading, line.hasPrefix("| `") else { continue }
            let cell = line.dropFirst(3).prefix { $0 != "`" }
            tables[current, default: []].append(String(cell))
        }
        return tables
    }

    @Test func everyLabelTableMatchesTheCode() throws {
        let tables = Self.tables(in: try Self.protocolText())
        for (heading, labels) in Self.expected {
            let found = tables.filter { $0.key.hasPrefix(heading) }
            try #require(found.count == 1, "one table headed \"\(heading)…\" in PROTOCOL.md §9")
            let documented = found.first!.value
            #expect(Set(documented).count == documented.count, "\(heading): a label listed twice")
            let missing = Set(labels).subtracting(documented)
            let extra = Set(documented).subtracting(labels)
            #expect(missing.isEmpty, "\(heading): labels the code counts but the table omits: \(missing.sorted())")
            #expect(extra.isEmpty, "\(heading): labels the table lists but the code never counts: \(extra.sorted())")
        }
    }

    /// The client's three label sets share `GET /v1/network`'s `drops`: they must not overlap.
    @Test func clientLabelsAreDistinct() {
        let engine = Set(ClientDropReason.allCases.map(\.rawValue))
        let messenger = Set(ReceiveDropReason.allCases.map(\.rawValue))
        let link = Set(LinkDropReason.allCases.map(\.rawValue))
        #expect(engine.isDisjoint(with: messenger) && engine.isDisjoint(with: link) && messenger.isDisjoint(with: link))
    }

    @Test func theTableReaderFindsRows() {
        let text = "## 9. x\n### 9.3 Link layer — m\n| label | check |\n|---|---|\n| `a` | x |\n| `b` | y |\n### 9.4 Sphinx\n| `c` | z |\n## 10. y\n| `d` | w |\n"
        #expect(Self.tables(in: text) == ["9.3 Link layer — m": ["a", "b"], "9.4 Sphinx": ["c"]])
    }

    /// A refused message says why: garbage is `malformed_session_message`, and a message from
    /// someone who is no longer a contact is `undecryptable` (not a rule: no `refusal`).
    @Test func refusalsCarryTheirLabels() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob")
        var rng = SeededRandom(seed: "drop labels")
        let garbage = bob.messenger.receive(rng.bytes(300), now: .t0)
        #expect(garbage.label == .malformedSessionMessage && garbage.refusal == nil)

        _ = try alice.add(bob)
        try alice.exchange(with: bob, now: .t0)
        #expect(bob.dropLabels.isEmpty)
        try bob.messenger.removeContact(id: alice.id)
        _ = try alice.messenger.queueText(to: bob.id, text: "still there?", now: .t0.plus(seconds: 5), rng: &alice.rng)
        for packet in try alice.drainOutbox(now: .t0.plus(seconds: 5)) { try bob.receive(packet, now: .t0.plus(seconds: 5)) }
        #expect(!bob.dropLabels.isEmpty && bob.dropLabels.allSatisfy { $0 == .undecryptable })
        #expect(bob.refusals.isEmpty)
    }
}
