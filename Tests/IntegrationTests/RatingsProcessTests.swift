import Foundation
import Testing

/// Ratings with real processes: a first ring of one with a probation of an hour lists two new
/// relays at a tenth of their weight and without `mailbox` (their descriptors claim it), itself
/// with `first_ring` and `mailbox` at full weight; every relay serves the ring's ratings, not
/// the descriptors' claims, at `GET /v1/relays`.
@Suite struct RatingsProcessTests {
    @Test func newRelaysServeTheirProbationInTheDirectory() async throws {
        let mesh = try TestNetwork { options in
            options.admission = [("max_relays_per_address", "8"), ("max_relays_per_prefix", "8"), ("probation_hours", "1")]
        }
        defer { mesh.stop() }
        let a = try mesh.startRelay("a", trusting: nil)
        let b = try mesh.startRelay("b", trusting: a)
        try mesh.startRelay("c", trusting: a)
        try mesh.devnet.waitForDirectory()

        func rated(by relay: RelayProcess) throws -> [String: (flags: [String], weight: Int)] {
            let relays = try relay.json("/v1/relays")["relays"] as? [[String: Any]] ?? []
            return Dictionary(uniqueKeysWithValues: relays.compactMap { entry in
                guard let id = entry["id"] as? String, let flags = entry["flags"] as? [String], let weight = entry["weight"] as? Int else {
                    return nil
                }
                return (id, (flags, weight))
            })
        }
        try await eventually("b serves a directory of 3 rated relays", within: 60) { try rated(by: b).count == 3 }
        for relay in [a, b] {
            let ratings = try rated(by: relay)
            let ring = try #require(ratings[a.id.hex])
            #expect(ring.flags == ["first_ring", "mailbox"])
            for other in mesh.relays where other.id != a.id {
                let rating = try #require(ratings[other.id.hex])
                #expect(rating.flags.isEmpty, "on probation: no mailbox, whatever its descriptor claims")
                #expect(rating.weight * 5 <= ring.weight, "a tenth of its weight at first: \(rating.weight) against \(ring.weight)")
            }
        }
    }
}
