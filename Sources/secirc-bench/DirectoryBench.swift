import ArgumentParser
import Foundation
import SecIRCCore
import SecIRCCrypto

/// Synthetic relay directories: their size, the first ring's signing and a node's verification
/// time, and what the next period costs a node that holds one (a diff, `?since=`) at 1% churn.
/// No C reference: the targets are the (verify ≤ 50 ms for 10,000 relays, an hourly
/// update ≤ 50 KiB at 1% churn).
struct DirectoryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "Directory bytes, sign and verify time, diff bytes at 1% churn; last line: directory_update_kib_10000_1pct <x>.")

    @Option(help: "Directory sizes (relays), comma-separated.")
    var relays: String = "1000,10000"

    @Option(help: "Rounds of each timing; medians are reported.")
    var rounds: Int = 3

    @Option(help: "Share of relays replaced by new ones each period, in percent.")
    var churn: Double = 1

    @Option(help: "First-ring members, all of whom sign (threshold: a majority).")
    var members: Int = 3

    func run() throws {
        let sizes = relays.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ (1...RelayDirectory.maximumRelays).contains($0) }) else {
            throw ValidationError("--relays: sizes from 1 to \(RelayDirectory.maximumRelays)")
        }
        var rng = SeededRandom(seed: "secirc-bench directory")
        let ring = (0..<members).map { _ in SigningPrivateKey(using: &rng) }
        let roster = Roster(members: ring.enumerated().map { i, key in
            Roster.Member(identityKey: key.publicKey, udp: "192.0.2.\(i + 1):6690", http: "https://192.0.2.\(i + 1):6691")
        })
        let now: Int64 = 1_800_000_000
        var lastUpdateKiB = 0.0
        for n in sizes {
            var listed = try (0..<n).map { _ in try Self.descriptor(&rng, now: now) }
            listed.sort { $0.id < $1.id } // the first ring lists relays by ID
            let base = RelayDirectory(serial: 100, previous: try Bytes32(rng.bytes(32)), validAfter: now - 60, validUntil: now + 86_400,
                                      network: NetworkParameters(coverRate: 2, loopRate: 0.5, meanDelayMs: 50), roster: roster,
                                      relays: listed.map(\.document))

            // The first ring: encode the body, every member signs, the envelope as served.
            var signed = base.unsignedDocument()
            let signTimes = (0..<rounds).map { _ in
                Self.time {
                    var document = base.unsignedDocument()
                    for key in ring { document.sign(with: key) }
                    signed = document
                    _ = document.jsonBytes()
                }
            }
            let json = signed.jsonBytes()

            // A node with nothing held: parse, check the ring's signatures and every descriptor's.
            var verified = 0
            let verifyTimes = try (0..<rounds).map { _ in
                try Self.time {
                    let document = try JSONDecoder().decode(SignedDocument.self, from: Data(json))
                    verified = try Unverified<RelayDirectory>(document).verifiedWithDescriptors(trusting: roster, now: now).descriptors.count
                }
            }
            guard verified == n else { throw BenchError("verified \(verified) of \(n) descriptors") }
            // Where a cold verification goes: the envelope's JSON, the ring's signatures, the
            // body's JSON, the descriptors (each: its JSON and its Ed25519 signature).
            let document = try JSONDecoder().decode(SignedDocument.self, from: Data(json))
            let parts = try [
                Self.time { _ = try JSONDecoder().decode(SignedDocument.self, from: Data(json)) },
                Self.time { _ = document.validSigners(among: roster.keys) },
                Self.time { _ = try JSONDecoder().decode(RelayDirectory.self, from: Data(document.body)) },
                Self.time { _ = try base.descriptors() },
            ]

            // The next period: churn% of relays leave and as many new ones join.
            let changed = max(1, Int((Double(n) * churn / 100).rounded()))
            var next = listed
            for _ in 0..<changed { next.remove(at: Int.random(in: 0..<next.count, using: &rng)) }
            next += try (0..<changed).map { _ in try Self.descriptor(&rng, now: now + 3_600) }
            next.sort { $0.id < $1.id }
            var nextDirectory = base
            nextDirectory.serial += 1
            nextDirectory.previous = signed.bodyHash
            nextDirectory.earlier = base.earlierForNext()
            nextDirectory.validAfter += 3_600
            nextDirectory.validUntil += 3_600
            nextDirectory.relays = next.map(\.document)
            var nextSigned = nextDirectory.unsignedDocument()
            for key in ring { nextSigned.sign(with: key) }
            guard let diff = DirectoryDiff.make(from: signed, base, to: nextSigned, nextDirectory) else {
                throw BenchError("no diff rebuilds the next directory")
            }
            let diffJSON = diff.jsonBytes()

            // A node holding the base: parse the diff, rebuild, verify with the descriptors it knows.
            var known: [Bytes32: RelayDescriptor] = [:]
            for entry in listed { known[entry.document.bodyHash] = entry.descriptor }
            let updateTimes = try (0..<rounds).map { _ in
                try Self.time {
                    let rebuilt = try DirectoryDiff.decode(json: diffJSON).apply(to: signed, base)
                    let result = try Unverified<RelayDirectory>(rebuilt).verifiedWithDescriptors(trusting: roster, now: now + 3_600, known: known)
                    guard result.descriptors.count == n, rebuilt == nextSigned else { throw BenchError("the rebuilt directory differs") }
                }
            }
            let fullNext = nextSigned.jsonBytes().count
            lastUpdateKiB = Double(diffJSON.count) / 1024
            print("directory_relays \(n)")
            print(String(format: "directory_bytes_%d %d (%.2f MiB%@)", n, json.count, Double(json.count) / 1_048_576,
                         json.count > SignedDocument.maximumEncodedLength ? ", over the 4 MiB decode limit" : ""))
            print(String(format: "directory_descriptor_bytes_%d %.0f (envelope JSON per relay)", n, Double(json.count) / Double(n)))
            print(String(format: "directory_sign_ms_%d %.1f (%d signatures)", n, 1e3 * median(signTimes), members))
            print(String(format: "directory_verify_ms_%d %.1f (cold: parse + ring + %d descriptor signatures)", n, 1e3 * median(verifyTimes), n))
            print(String(format: "directory_verify_parts_ms_%d envelope %.1f, ring %.1f, body %.1f, descriptors %.1f", n,
                         1e3 * parts[0], 1e3 * parts[1], 1e3 * parts[2], 1e3 * parts[3]))
            print(String(format: "directory_update_verify_ms_%d %.1f (diff parse + rebuild + ring + %d new descriptors)", n,
                         1e3 * median(updateTimes), changed))
            print(String(format: "directory_diff_bytes_%d %d (%d left, %d joined; full next directory %d bytes, %.1f%%)", n,
                         diffJSON.count, changed, changed, fullNext, 100 * Double(diffJSON.count) / Double(fullNext)))
        }
        print(String(format: "directory_update_kib_%d_%gpct %.1f", sizes.last!, churn, lastUpdateKiB))
    }

    /// A relay's descriptor as relays sign them: two onion keys, a numeric UDP address, an
    /// HTTPS URL with a pin.
    static func descriptor(_ rng: inout SeededRandom, now: Int64) throws -> (id: ID, document: SignedDocument, descriptor: RelayDescriptor) {
        let key = SigningPrivateKey(using: &rng)
        let octets = rng.bytes(3).map(String.init).joined(separator: ".")
        let content = RelayDescriptor(
            identityKey: key.publicKey, linkKey: try AgreementPublicKey(bytes: rng.bytes(32)), udp: "10.\(octets):6690",
            http: "https://10.\(octets):6691/#spki=\(Data(rng.bytes(32)).base64EncodedString())",
            onionKeys: [
                .init(epoch: 20_000, key: try AgreementPublicKey(bytes: rng.bytes(32)), validAfter: now - 3_600, validUntil: now + 82_800),
                .init(epoch: 20_001, key: try AgreementPublicKey(bytes: rng.bytes(32)), validAfter: now + 82_800, validUntil: now + 169_200),
            ],
            capacity: 8_000, flags: ["mailbox"], published: now - 600)
        return (content.id, try content.signed(by: key), content)
    }

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = monotonicSeconds()
        try body()
        return monotonicSeconds() - start
    }
}
