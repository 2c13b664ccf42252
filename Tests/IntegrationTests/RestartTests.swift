import Foundation
import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCLock
import Testing

/// Relays restarted under traffic, as real processes over real UDP: a relay keeps its onion keys
/// and the first ring its directory serial and chain (docs/SECURITY.md, "Restarts").
@Suite(.serialized) struct RestartTests {
    static let unknownEpoch = "secirc_packets_dropped_total{layer=\"sphinx\",reason=\"unknown_epoch\"}"

    /// The directory the first ring `a` serves, verified against it alone, with its signed envelope.
    static func directory(from a: RelayProcess) throws -> (RelayDirectory, SignedDocument) {
        try directory(api: a.api, roster: Roster(members: [Roster.Member(identityKey: a.identityKey, udp: a.udp, http: a.http)]))
    }

    static func directory(api: APIClient, roster: Roster) throws -> (RelayDirectory, SignedDocument) {
        let document = try SignedDocument.decode(json: api.send("GET", "/v1/directory").body)
        let directory = try Unverified<RelayDirectory>(document).verified(trusting: roster, now: Int64(Date().timeIntervalSince1970))
        return (directory, document)
    }

    /// Alice writes to Bob all along while relay B, then the first ring A, restart. Afterwards no
    /// relay counts an `unknown_epoch` drop, A's serial never went back and its new directory
    /// links the one before the restart, and every message is delivered.
    @Test func relaysRestartedUnderTrafficKeepKeysSerialAndChain() async throws {
        // A 10 s period: directories change when relays join or restart, not every second, so
        // the conditional fetches have something to answer 304 to.
        let mesh = try await MeshTests.startMesh(directoryPeriodSeconds: 10)
        defer { mesh.stop() }
        let (a, b) = (mesh.relays[0], mesh.relays[1])
        let alice = try mesh.startClient("alice")
        let bob = try mesh.startClient("bob")
        try alice.waitReady()
        try bob.waitReady()
        let invite = try bob.get(InviteResponse.self, "/v1/invite")
        let added = try alice.request("/v1/contacts", method: "POST", json: AddContactRequest(invite: invite.uri))
        #expect(added.status == 201)
        let bobID = try APIClient.decode(Contact.self, from: added.body).id
        try await eventually("alice's session is established") { try alice.contacts().first?.session == "established" }

        // Traffic all along: a message every 100 ms, and A's serial watched from the outside.
        let sent = SentMessages()
        let serials = SerialWatch()
        let (aliceAPI, ringAPI) = (alice.api, a.api)
        let roster = Roster(members: [Roster.Member(identityKey: a.identityKey, udp: a.udp, http: a.http)])
        let traffic = Task.detached {
            var n = 0
            while !Task.isCancelled {
                n += 1
                let body = try? JSONEncoder().encode(SendTextRequest(text: "m\(n)"))
                if let response = try? aliceAPI.send("POST", "/v1/conversations/\(bobID)/messages", body: body.map { Array($0) }),
                   response.status == 202, let message = try? APIClient.decode(Message.self, from: response.body) {
                    sent.add(message.id)
                }
                if let serial = try? Self.directory(api: ringAPI, roster: roster).0.serial { serials.add(serial) }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { traffic.cancel() }
        try await eventually("traffic flows") { sent.count >= 5 }

        try b.restart()
        try await eventually("messages flow after B's restart") { sent.count >= 25 }
        #expect(try b.metric(Self.unknownEpoch) == 0, "B's restored keys peel what was built against them")

        let (beforeRing, beforeDocument) = try Self.directory(from: a)
        try a.restart()
        try await eventually("A serves a directory after its restart") { (try? Self.directory(from: a)) != nil }
        let (afterRing, _) = try Self.directory(from: a)
        #expect(afterRing.serial >= beforeRing.serial, "the serial does not go back")
        try await eventually("A signs the next directory, chained to the one before its restart", within: 20) {
            try Self.directory(from: a).0.serial > beforeRing.serial
        }
        let (next, _) = try Self.directory(from: a)
        try next.checkFollows(beforeRing, document: beforeDocument)
        #expect(next.relays.count == 3, "the relays A listed are still listed")
        try await eventually("messages flow after A's restart") { sent.count >= 50 }
        traffic.cancel()
        _ = await traffic.result

        let ids = sent.all
        try await eventually("every message is delivered", within: 90) {
            try ids.allSatisfy { try alice.get(Message.self, "/v1/messages/\($0)").state == "delivered" }
        }
        for relay in mesh.relays {
            #expect(try relay.metric(Self.unknownEpoch) == 0, "relay \(relay.name) dropped packets as unknown_epoch")
        }
        #expect(serials.isMonotonic, "A's serial as seen from outside: \(serials.all)")
        // Relays and clients fetch conditionally: unchanged directories are answered 304.
        // (Awaited: whether one fell in the test's own time depends on when the periods fell.)
        try await eventually("a conditional directory fetch answered 304", within: 60) {
            try mesh.relays.map { try $0.metric("secirc_http_requests_total{status=\"304\"}") }.reduce(0, +) > 0
        }
    }
}

/// Message IDs sent by the traffic task.
private final class SentMessages: Sendable {
    private let ids = Locked<[String]>([])
    func add(_ id: String) { ids.withLock { $0.append(id) } }
    var count: Int { ids.withLock { $0.count } }
    var all: [String] { ids.withLock { $0 } }
}

/// Serials seen in order.
private final class SerialWatch: Sendable {
    private let serials = Locked<[UInt64]>([])
    func add(_ serial: UInt64) { serials.withLock { $0.append(serial) } }
    var all: [UInt64] { serials.withLock { $0 } }
    var isMonotonic: Bool { all.count > 1 && zip(all, all.dropFirst()).allSatisfy { $0 <= $1 } }
}
