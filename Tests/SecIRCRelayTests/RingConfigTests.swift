import Foundation
@testable import SecIRCRelay
import Testing

/// A relay listed among several first-ring members votes by rounds, so its directory period
/// must leave room for a vote window and the signing: at least 4 s, said with file and key.
@Suite struct RingConfigTests {
    @Test func aRingMemberNeedsAPeriodOfAtLeastFourSeconds() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-ring-config-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let identity = try RelayIdentity.loadOrCreate(dataDirectory: dir)
        let other = String(repeating: "ab", count: 32)
        func settings(period: Int) throws -> RelaySettings {
            try RelaySettings.load(serverPath: nil, securityPath: nil, dataDirectory: dir, environment: [
                "SECIRC_SERVER_DIRECTORY_PERIOD_SECONDS": "\(period)",
                "SECIRC_SECURITY_FIRST_RING_MEMBERS": "[{public_key: \(identity.publicKeyHex), udp: '127.0.0.1:7001', http: 'http://127.0.0.1:8001'}, {public_key: \(other), udp: '127.0.0.1:7002', http: 'http://127.0.0.1:8002'}]",
            ])
        }
        do {
            _ = try RelayNode.trustedRoster(settings: settings(period: 3), identity: identity)
            Issue.record("a 3 s period was taken for a member of a ring of two")
        } catch {
            #expect("\(error)" == "server.yaml: directory.period_seconds: a member of a first ring of several needs a period of at least 4 s, not 3")
        }
        let roster = try RelayNode.trustedRoster(settings: settings(period: 4), identity: identity)
        #expect(roster.members.count == 2 && roster.threshold == 2)
    }
}
