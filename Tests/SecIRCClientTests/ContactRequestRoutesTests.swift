import Foundation
@testable import SecIRCClient
import SecIRCCore
import SecIRCCrypto
@testable import SecIRCHTTP
import SecIRCNode
import Testing

/// Contact requests through the client API's routes (docs/PROTOCOL.md §8, Consent), over both
/// the SQLite store (the fixture's user) and the routes' event stream.
@Suite struct ContactRequestRoutesTests {
    /// `sender`'s due mail, delivered to the fixture's user.
    static func deliver(_ sender: User, to f: ClientRoutesFixture, now: UnixTime = .t0) throws {
        for packet in try sender.drainOutbox(now: now) { try f.user.receive(packet, now: now) }
    }

    /// What the stream holds so far, as text.
    static func drain(_ stream: HTTPEventStream) -> String {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let count = buffer.withUnsafeMutableBytes { stream.read(into: $0) }
        return String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
    }

    @Test func aRequestIsListedHiddenThenAcceptedWithItsMessages() throws {
        let f = try ClientRoutesFixture(policy: .ask)
        let dave = try User("dave", relays: FakeRelays.make(3))
        _ = try dave.add(f.user, now: .t0)
        _ = try dave.queueText(to: f.user.id, "hello carol", now: .t0)
        try Self.deliver(dave, to: f)
        #expect(f.user.events.contains { if case .request = $0 { true } else { false } })

        let path = "/v1/contacts/\(dave.id.hex)"
        let listed = try #require((f.handle(.get, "/v1/contacts").object["contacts"] as? [[String: Any]])?.first)
        #expect(listed["state"] as? String == "requested" && listed["name"] as? String == "dave")
        #expect((f.handle(.get, "/v1/conversations/\(dave.id.hex)/messages").object["messages"] as? [Any])?.isEmpty == true)
        #expect((f.handle(.get, "/v1/conversations").object["conversations"] as? [Any])?.isEmpty == true)
        let refused = f.handle(.post, "/v1/conversations/\(dave.id.hex)/messages", body: #"{"text":"hi"}"#)
        #expect(refused.status == 409 && refused.errorCode == "conflict")
        #expect(f.handle(.post, path + "/queues/rotate").status == 409)

        let stream = f.events.subscribe()
        let pokes = f.pokes.count
        let accepted = f.handle(.post, path + "/accept")
        #expect(accepted.status == 200 && accepted.object["state"] as? String == "accepted")
        #expect(f.pokes.count == pokes + 1, "the network thread is woken to give the contact its queues")
        let events = Self.drain(stream)
        #expect(events.contains("event: contact\n") && events.contains("event: message\n") && events.contains("hello carol"))
        #expect(events.range(of: "event: contact")!.lowerBound < events.range(of: "event: message")!.lowerBound)
        let page = f.handle(.get, "/v1/conversations/\(dave.id.hex)/messages").object["messages"] as? [[String: Any]]
        #expect(page?.map { $0["text"] as? String } == ["hello carol"])
        #expect(f.handle(.post, "/v1/conversations/\(dave.id.hex)/messages", body: #"{"text":"hi dave"}"#).status == 202)
        #expect(f.handle(.post, path + "/reject").status == 409, "an accepted contact is removed, not rejected")
        #expect(f.handle(.post, "/v1/contacts/\(String(repeating: "0", count: 64))/accept").status == 404)
        #expect(f.handle(.post, "/v1/contacts/\(String(repeating: "0", count: 64))/reject").status == 404)
    }

    @Test func aOneTimeInviteFromTheRouteOutlivesARestartAndMakesAContact() throws {
        let f = try ClientRoutesFixture(policy: .ask)
        let made = f.handle(.post, "/v1/invites")
        #expect(made.status == 201 && (made.object["mailboxes"] as? [Any])?.count == 2)
        let uri = try #require(made.object["uri"] as? String)
        #expect(uri != f.handle(.get, "/v1/invite").object["uri"] as? String, "not the long-lived invite")
        try f.user.reopen()
        #expect(try f.user.messenger.store.read { try $0.prekeyRing() }.entries.contains(where: \.oneTime), "kept in SQLite as one-time")

        let dave = try User("dave", relays: FakeRelays.make(3))
        _ = try dave.messenger.addContact(inviteURI: uri, name: "carol", now: .t0, rng: &dave.rng)
        try Self.deliver(dave, to: f)
        let listed = f.handle(.get, "/v1/contacts/\(dave.id.hex)")
        #expect(listed.object["state"] as? String == "accepted")
        #expect(try f.user.messenger.contact(id: dave.id)?.consent == .invited)
        let early = try ClientRoutesFixture(mailboxes: false)
        #expect(early.handle(.post, "/v1/invites").status == 503)
    }

    @Test func aRejectedRequestIsGoneAndBlocked() throws {
        let f = try ClientRoutesFixture(policy: .ask)
        let erin = try User("erin", relays: FakeRelays.make(3))
        _ = try erin.add(f.user, now: .t0)
        _ = try erin.queueText(to: f.user.id, "spam", now: .t0)
        try Self.deliver(erin, to: f)
        let path = "/v1/contacts/\(erin.id.hex)"
        #expect(f.handle(.get, path).object["state"] as? String == "requested")
        #expect(f.handle(.post, path + "/reject").status == 204)
        #expect(f.handle(.get, path).status == 404)
        #expect((f.handle(.get, "/v1/contacts").object["contacts"] as? [Any])?.isEmpty == true)

        try erin.messenger.removeContact(id: f.user.id)
        _ = try erin.add(f.user, now: .t0.plus(seconds: 5))
        for packet in try erin.drainOutbox(now: .t0.plus(seconds: 5)) {
            let fragment = try #require(try SealedPacket.fragments(of: packet.message, transferID: packet.transferID).first)
            _ = fragment
            let received = f.user.messenger.receive(packet.message, now: .t0.plus(seconds: 5))
            #expect(received.refusal == "blocked")
        }
        #expect(f.handle(.get, path).status == 404)
    }
}
