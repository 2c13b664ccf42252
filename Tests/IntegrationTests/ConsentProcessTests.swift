import Foundation
import SecIRCAPI
import Testing

/// Contact requests between real client daemons (docs/PROTOCOL.md §8, Consent), through their
/// HTTP APIs and event streams, with `contacts.auto_accept: false` (the default of client.yaml).
@Suite(.serialized) struct ConsentProcessTests {
    @Test func aRequestIsShownOnlyOnceAcceptedAndARejectedOneIsRefused() async throws {
        let mesh = try TestNetwork { $0.autoAccept = false }
        defer { mesh.stop() }
        let a = try mesh.startRelay("a", trusting: nil)
        try mesh.startRelay("b", trusting: a)
        try mesh.devnet.waitForDirectory()
        let alice = try mesh.startClient("alice")
        let bob = try mesh.startClient("bob")
        let eve = try mesh.startClient("eve")
        for client in [alice, bob, eve] { try client.waitReady() }
        let bobEvents = try EventCollector(bob)
        defer { bobEvents.stop() }

        let invite = try bob.get(InviteResponse.self, "/v1/invite").uri
        #expect(try alice.request("/v1/contacts", method: "POST", json: AddContactRequest(invite: invite)).status == 201)
        let bobID = try bob.get(Identity.self, "/v1/identity").id
        let aliceID = try alice.get(Identity.self, "/v1/identity").id
        let first = try alice.send("hello, may I?", to: bobID)
        try await eventually("bob has alice's request") { try bob.contacts().first { $0.id == aliceID }?.state == "requested" }
        try await eventually("the request event") { bobEvents.contains("request", with: aliceID) }
        try await eventually("alice's message is stored (delivered)") {
            try alice.get(Message.self, "/v1/messages/\(first)").state == "delivered"
        }
        #expect(try bob.messages(with: aliceID).isEmpty, "nothing shown before acceptance")
        #expect(!bobEvents.contains("message", with: "hello, may I?"))
        #expect(try bob.request("/v1/conversations/\(aliceID)/messages", method: "POST", json: SendTextRequest(text: "no")).status == 409)

        let accepted = try bob.request("/v1/contacts/\(aliceID)/accept", method: "POST")
        #expect(accepted.status == 200)
        #expect(try APIClient.decode(Contact.self, from: accepted.body).state == "accepted")
        #expect(try bob.messages(with: aliceID).map(\.text) == ["hello, may I?"])
        try await eventually("the accepted message is announced") { bobEvents.contains("message", with: "hello, may I?") }
        let reply = try bob.send("welcome", to: aliceID)
        try await eventually("bob's reply is delivered") { try bob.get(Message.self, "/v1/messages/\(reply)").state == "delivered" }

        // Eve asks too and is rejected: her set-ups are refused from then on, and counted.
        let eveID = try eve.get(Identity.self, "/v1/identity").id
        #expect(try eve.request("/v1/contacts", method: "POST", json: AddContactRequest(invite: invite, name: "bob")).status == 201)
        try await eventually("bob has eve's request") { try bob.contacts().contains { $0.id == eveID && $0.state == "requested" } }
        #expect(try bob.request("/v1/contacts/\(eveID)/reject", method: "POST").status == 204)
        #expect(try bob.contacts().map(\.id) == [aliceID])
        #expect(try eve.request("/v1/contacts/\(bobID)", method: "DELETE").status == 204)
        #expect(try eve.request("/v1/contacts", method: "POST", json: AddContactRequest(invite: invite, name: "bob")).status == 201)
        try await eventually("eve's new set-up is refused as blocked") {
            try bob.get(NetworkStatus.self, "/v1/network").drops["blocked", default: 0] > 0
        }
        #expect(try bob.contacts().map(\.id) == [aliceID])
    }
}
