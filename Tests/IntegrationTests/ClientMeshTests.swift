import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SecIRCAPI
import Synchronization
import Testing

/// Collects a daemon's Server-Sent Events on a thread of its own (the reader blocks).
final class EventCollector: Sendable {
    private let events = EventList()
    private let stream: EventStream

    private final class EventList: Sendable {
        let list = Mutex<[ServerSentEvent]>([])
    }

    init(_ client: ClientProcess) throws {
        stream = try APIClient(baseURL: client.api, token: client.token).events(idleTimeout: 60)
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
        let root = try Processes.temporaryDirectory()
        let relays = try await MeshTests.startMesh(root: root)
        let alice = try ClientProcess(name: "alice", root: root, firstRing: relays[0], bootstrap: relays)
        let bob = try ClientProcess(name: "bob", root: root, firstRing: relays[0], bootstrap: relays)
        defer {
            alice.terminate()
            bob.terminate()
            MeshTests.stopMesh(relays, root: root)
        }
        try alice.start()
        try bob.start()
        try await alice.waitReady()
        try await bob.waitReady()

        // Without the token, nothing but /healthz.
        #expect(try await alice.request("/v1/identity", token: "nope").status == 401)
        #expect(try await alice.request("/healthz", token: "").status == 200)

        try await eventually("bob's invite names two mailbox relays") {
            (try await bob.get("/v1/invite")["mailboxes"] as? [Any])?.count == 2
        }
        let invite = try #require(try await bob.get("/v1/invite")["uri"] as? String)
        let added = try await alice.request("/v1/contacts", method: "POST", json: ["invite": invite])
        #expect(added.status == 201)
        let bobID = try #require(added.object["id"] as? String)
        try await eventually("bob learns of alice") { try await bob.contacts().first?["name"] as? String == "alice" }
        let aliceID = try #require(try await bob.contacts().first?["id"] as? String)
        try await eventually("alice's session is established") {
            try await alice.contacts().first?["session"] as? String == "established"
        }

        func delivered(_ id: String, by sender: ClientProcess) async throws -> Bool {
            try await sender.get("/v1/messages/\(id)")["state"] as? String == "delivered"
        }
        let bobEvents = try EventCollector(bob)
        let aliceEvents = try EventCollector(alice)
        defer {
            bobEvents.stop()
            aliceEvents.stop()
        }
        let first = try await alice.send("one", to: bobID)
        let reply = try await bob.send("one back", to: aliceID)
        try await eventually("both first messages delivered") {
            let one = try await delivered(first, by: alice)
            let other = try await delivered(reply, by: bob)
            return one && other
        }
        try await eventually("bob's event stream shows the message, alice's the receipt") {
            bobEvents.contains("message", with: "\"text\":\"one\"") && aliceEvents.contains("receipt", with: first)
        }

        let bobMailboxes = try await bob.get("/v1/network")["mailboxes"] as? [[String: Any]]
        let mailboxRelay = try #require(bobMailboxes?.first?["relay_id"] as? String)

        // Bob's daemon stops; Alice keeps writing.
        #expect(bob.terminate() == 0, "SIGTERM stops the client cleanly")
        let whileAway = [try await alice.send("two", to: bobID), try await alice.send("three", to: bobID)]
        try await eventually("sent while bob is away") {
            var sent = true
            for id in whileAway {
                let state = try await alice.get("/v1/messages/\(id)")["state"] as? String
                sent = sent && state == "sent"
            }
            return sent
        }
        try bob.start()

        // One of Bob's mailbox relays restarts: whatever it held is gone, and its onion keys are new.
        let restarted = try #require(relays.first { $0.id.hex == mailboxRelay })
        try restarted.restart()
        let duringRestart = try await alice.send("four", to: bobID)

        // Alice's daemon restarts with a message in its outbox.
        let queued = try await alice.send("five", to: bobID)
        #expect(alice.terminate() == 0)
        try alice.start()
        try await alice.waitReady()

        let all = [first] + whileAway + [duringRestart, queued]
        try await eventually("every message of alice is delivered", within: 90) {
            var done = true
            for id in all {
                let state = try await delivered(id, by: alice)
                done = done && state
            }
            return done
        }
        let received = try await bob.messages(with: aliceID).filter { $0["direction"] as? String == "in" }.compactMap { $0["text"] as? String }
        #expect(received.sorted() == ["five", "four", "one", "three", "two"], "each exactly once: \(received)")
        let aliceReceived = try await alice.messages(with: bobID).filter { $0["direction"] as? String == "in" }
        #expect(aliceReceived.compactMap { $0["text"] as? String } == ["one back"])
        let network = try await alice.get("/v1/network")
        #expect((network["directory"] as? [String: Any])?["relays"] as? Int == 3)
        #expect(network["outbox"] as? Int == 0)
    }

    /// With the balanced profile a client sends loop cover packets at the directory's rate λ
    /// (2/s here) through 3-hop paths to its own mailboxes, and fetches them back.
    @Test func coverTrafficLoopsBackToItsSender() async throws {
        let root = try Processes.temporaryDirectory()
        let relays = try await MeshTests.startMesh(root: root)
        let carol = try ClientProcess(name: "carol", root: root, firstRing: relays[0], bootstrap: relays, cover: "balanced")
        let dave = try ClientProcess(name: "dave", root: root, firstRing: relays[0], bootstrap: relays, cover: "balanced")
        defer {
            carol.terminate()
            dave.terminate()
            MeshTests.stopMesh(relays, root: root)
        }
        try carol.start()
        try dave.start()
        try await carol.waitReady()
        try await dave.waitReady()
        try await eventually("cover packets go out and come back") {
            let network = try await carol.get("/v1/network")
            return network["cover_traffic"] as? String == "balanced"
                && (network["cover_packets_sent"] as? Int ?? 0) >= 4 && (network["packets_received"] as? Int ?? 0) >= 2
        }
        // Real packets take the place of cover packets, and still arrive.
        try await eventually("dave's invite names two mailbox relays") {
            (try await dave.get("/v1/invite")["mailboxes"] as? [Any])?.count == 2
        }
        let invite = try #require(try await dave.get("/v1/invite")["uri"] as? String)
        let added = try await carol.request("/v1/contacts", method: "POST", json: ["invite": invite])
        let daveID = try #require(added.object["id"] as? String)
        let id = try await carol.send("under cover", to: daveID)
        try await eventually("delivered under cover traffic") {
            try await carol.get("/v1/messages/\(id)")["state"] as? String == "delivered"
        }
    }
}
