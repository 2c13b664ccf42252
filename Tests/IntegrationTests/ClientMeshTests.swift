import Foundation
import SecIRCAPI
import SecIRCLock
import Testing

/// Collects a daemon's Server-Sent Events on a thread of its own (the reader blocks).
final class EventCollector: Sendable {
    private let events = EventList()
    private let stream: EventStream

    private final class EventList: Sendable {
        let list = Locked<[ServerSentEvent]>([])
    }

    init(_ client: ClientProcess) throws {
        stream = try client.api.events(idleTimeout: 60)
        let thread = Thread { [stream, events] in
            while let event = try? stream.next() { events.list.withLock { $0.append(event) } }
        }
        thread.start()
    }

    func contains(_ name: String, with text: String) -> Bool {
        events.list.withLock { list in list.contains { $0.event == name && $0.data.contains(text) } }
    }

    func stop() { stream.cancel() }
}

/// Two client daemons talking through three relays, as real processes over real UDP and HTTP.
@Suite(.serialized) struct ClientMeshTests {
    /// Alice and Bob meet (Alice adds Bob's invite) and exchange messages; then Bob's daemon
    /// stops while Alice writes, one of Bob's mailbox relays restarts (losing its mail), and
    /// Alice's daemon restarts with queued messages. Every message arrives exactly once and is
    /// acknowledged.
    @Test func messagesSurviveRestartsOfClientsAndRelays() async throws {
        let mesh = try await MeshTests.startMesh()
        defer { mesh.stop() }
        let alice = try mesh.startClient("alice")
        let bob = try mesh.startClient("bob")
        try alice.waitReady()
        try bob.waitReady()

        // Without the token, nothing but /healthz.
        #expect(try alice.request("/v1/identity", token: "nope").status == 401)
        #expect(try alice.request("/healthz", token: "").status == 200)

        let bobInvite = try bob.get(InviteResponse.self, "/v1/invite")
        #expect(bobInvite.mailboxes.count == 2, "bob's invite names two mailbox relays")
        let added = try alice.request("/v1/contacts", method: "POST", json: AddContactRequest(invite: bobInvite.uri))
        #expect(added.status == 201)
        let bobID = try APIClient.decode(Contact.self, from: added.body).id
        try await eventually("bob learns of alice") { try bob.contacts().first?.name == "alice" }
        let aliceID = try #require(try bob.contacts().first?.id)
        try await eventually("alice's session is established") { try alice.contacts().first?.session == "established" }

        func delivered(_ id: String, by sender: ClientProcess) throws -> Bool {
            try sender.get(Message.self, "/v1/messages/\(id)").state == "delivered"
        }
        let bobEvents = try EventCollector(bob)
        let aliceEvents = try EventCollector(alice)
        defer {
            bobEvents.stop()
            aliceEvents.stop()
        }
        let first = try alice.send("one", to: bobID)
        let reply = try bob.send("one back", to: aliceID)
        try await eventually("both first messages delivered") {
            try delivered(first, by: alice) && delivered(reply, by: bob)
        }
        try await eventually("bob's event stream shows the message, alice's the receipt") {
            bobEvents.contains("message", with: "\"text\":\"one\"") && aliceEvents.contains("receipt", with: first)
        }

        let mailboxRelay = try #require(try bob.get(NetworkStatus.self, "/v1/network").mailboxes.first?.relayID)

        // Bob's daemon stops; Alice keeps writing.
        #expect(bob.stop() == .exited(0), "SIGTERM stops the client cleanly")
        let whileAway = [try alice.send("two", to: bobID), try alice.send("three", to: bobID)]
        try await eventually("sent while bob is away") {
            try whileAway.allSatisfy { try alice.get(Message.self, "/v1/messages/\($0)").state == "sent" }
        }
        try bob.start()

        // One of Bob's mailbox relays restarts: whatever it held is gone (its onion keys are kept).
        let restarted = try #require(mesh.relays.first { $0.id.hex == mailboxRelay })
        try restarted.restart()
        let duringRestart = try alice.send("four", to: bobID)

        // Alice's daemon restarts with a message in its outbox.
        let queued = try alice.send("five", to: bobID)
        #expect(alice.stop() == .exited(0))
        try alice.start()
        try alice.waitReady()

        let all = [first] + whileAway + [duringRestart, queued]
        try await eventually("every message of alice is delivered", within: 90) {
            try all.allSatisfy { try delivered($0, by: alice) }
        }
        let received = try bob.messages(with: aliceID).filter { $0.direction == "in" }.map(\.text)
        #expect(received.sorted() == ["five", "four", "one", "three", "two"], "each exactly once: \(received)")
        let aliceReceived = try alice.messages(with: bobID).filter { $0.direction == "in" }
        #expect(aliceReceived.map(\.text) == ["one back"])
        let network = try alice.get(NetworkStatus.self, "/v1/network")
        #expect(network.directory?.relays == 3)
        #expect(network.outbox == 0)
    }

    /// With the balanced profile a client sends loop cover packets at the directory's rate λ
    /// (2/s here) through 3-hop paths to its own mailboxes, and fetches them back.
    @Test func coverTrafficLoopsBackToItsSender() async throws {
        let mesh = try await MeshTests.startMesh()
        defer { mesh.stop() }
        let carol = try mesh.startClient("carol", coverTraffic: "balanced")
        let dave = try mesh.startClient("dave", coverTraffic: "balanced")
        try carol.waitReady()
        try dave.waitReady()
        try await eventually("cover packets go out and come back") {
            let network = try carol.get(NetworkStatus.self, "/v1/network")
            return network.coverTraffic == "balanced" && network.coverPacketsSent >= 4 && network.packetsReceived >= 2
        }
        // Real packets take the place of cover packets, and still arrive.
        let invite = try dave.get(InviteResponse.self, "/v1/invite")
        #expect(invite.mailboxes.count == 2, "dave's invite names two mailbox relays")
        let added = try carol.request("/v1/contacts", method: "POST", json: AddContactRequest(invite: invite.uri))
        let daveID = try APIClient.decode(Contact.self, from: added.body).id
        let id = try carol.send("under cover", to: daveID)
        try await eventually("delivered under cover traffic") {
            try carol.get(Message.self, "/v1/messages/\(id)").state == "delivered"
        }
    }
}
