import Foundation
import SecIRCAPI
import Testing

/// A group of three client daemons as real processes (issue 13): invitations through their
/// pairwise sessions, posts through the group mailboxes on two relays, a removal after which
/// the removed member reads nothing, a restart, and the API's refusals.
@Suite(.serialized) struct GroupProcessTests {
    static func posts(_ client: ClientProcess, _ group: String) throws -> [GroupMessage] {
        try client.get(GroupMessagePage.self, "/v1/groups/\(group)/messages?limit=500").messages
    }

    @Test func threePeopleTalkInAGroupAndCarolReadsNothingAfterHerRemoval() async throws {
        let mesh = try TestNetwork()
        defer { mesh.stop() }
        let a = try mesh.startRelay("a", trusting: nil)
        try mesh.startRelay("b", trusting: a)
        try mesh.startRelay("c", trusting: a)
        try mesh.devnet.waitForDirectory()
        let alice = try mesh.startClient("alice")
        let bob = try mesh.startClient("bob")
        let carol = try mesh.startClient("carol")
        for client in [alice, bob, carol] { try client.waitReady() }
        try mesh.devnet.introduce(alice.client, to: bob.client)
        try mesh.devnet.introduce(alice.client, to: carol.client)
        let bobID = bob.client.id, carolID = carol.client.id
        let bobEvents = try EventCollector(bob)
        defer { bobEvents.stop() }

        // Alice makes the group; bob and carol are asked, and accept.
        let created = try alice.request("/v1/groups", method: "POST", json: CreateGroupRequest(name: "trio", members: [bobID, carolID]))
        #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        let group = try APIClient.decode(Group.self, from: created.body)
        #expect(group.members.count == 3 && group.admin && group.member)
        for client in [bob, carol] {
            try await eventually("\(client.name) is invited", within: 60) {
                try client.get(GroupInvitationList.self, "/v1/group-invitations").invitations.contains { $0.group == group.id }
            }
            let accepted = try client.request("/v1/group-invitations/\(group.id)/accept", method: "POST")
            #expect(accepted.status == 200, "\(String(decoding: accepted.body, as: UTF8.self))")
        }
        #expect(bobEvents.contains("group_invite", with: group.id))

        // Everyone posts; everyone reads every post once, in one order.
        for (client, text) in [(alice, "hello from alice"), (bob, "bob here"), (carol, "carol too")] {
            let posted = try client.request("/v1/groups/\(group.id)/messages", method: "POST", json: SendTextRequest(text: text))
            #expect(posted.status == 202, "\(client.name): \(String(decoding: posted.body, as: UTF8.self))")
        }
        for client in [alice, bob, carol] {
            try await eventually("\(client.name) reads the three posts", within: 60) { try Self.posts(client, group.id).count == 3 }
        }
        let order = try Self.posts(alice, group.id).map(\.text)
        #expect(Set(order) == ["hello from alice", "bob here", "carol too"])
        #expect(try Self.posts(bob, group.id).map(\.text) == order && Self.posts(carol, group.id).map(\.text) == order)
        #expect(bobEvents.contains("group_message", with: "carol too"))

        // Only an admin changes the roster; alice removes carol.
        #expect(try bob.request("/v1/groups/\(group.id)/members/\(carolID)", method: "DELETE").status == 409)
        let removed = try alice.request("/v1/groups/\(group.id)/members/\(carolID)", method: "DELETE")
        #expect(removed.status == 200)
        #expect(try APIClient.decode(Group.self, from: removed.body).members.count == 2)
        try await eventually("carol learns she was removed", within: 60) { try !carol.get(Group.self, "/v1/groups/\(group.id)").member }
        try await eventually("bob may post in the new epoch", within: 60) { try bob.get(Group.self, "/v1/groups/\(group.id)").canPost }
        #expect(try bob.request("/v1/groups/\(group.id)/messages", method: "POST", json: SendTextRequest(text: "after carol")).status == 202)
        try await eventually("alice reads bob's post", within: 60) { try Self.posts(alice, group.id).contains { $0.text == "after carol" } }
        #expect(try carol.request("/v1/groups/\(group.id)/messages", method: "POST", json: SendTextRequest(text: "hello?")).status == 409)

        // Bob's daemon restarts (its group state is on disk) and goes on.
        bob.stop()
        try bob.start()
        try bob.waitReady()
        #expect(try bob.request("/v1/groups/\(group.id)/messages", method: "POST", json: SendTextRequest(text: "back again")).status == 202)
        try await eventually("alice reads bob's post after his restart", within: 60) {
            try Self.posts(alice, group.id).contains { $0.text == "back again" }
        }
        let bobs = try Self.posts(bob, group.id).map(\.text)
        #expect(bobs.count == Set(bobs).count, "nothing shown twice after a restart: \(bobs)")
        let carols = try Self.posts(carol, group.id).map(\.text)
        #expect(!carols.contains("after carol") && !carols.contains("back again"), "carol reads nothing after her removal: \(carols)")

        // The API refuses what it cannot do, with a JSON error.
        #expect(try alice.request("/v1/groups", method: "POST", json: CreateGroupRequest(name: "", members: [])).status == 400)
        #expect(try alice.request("/v1/groups", method: "POST", json: CreateGroupRequest(name: "x", members: ["zz"])).status == 400)
        #expect(try alice.request("/v1/groups/\(String(repeating: "0", count: 64))").status == 404)
        #expect(try alice.request("/v1/groups/nothex").status == 404)
        // A body naming no contact is a 409 unknown_contact (the group in the path exists; a 404 would say it did not).
        let stranger = String(repeating: "c", count: 64)
        let unknownMember = try alice.request("/v1/groups", method: "POST", json: CreateGroupRequest(name: "x", members: [stranger]))
        #expect(unknownMember.status == 409 && String(decoding: unknownMember.body, as: UTF8.self).contains("unknown_contact"))
        #expect(try alice.request("/v1/groups/\(group.id)/members", method: "POST", json: AddGroupMemberRequest(contact: stranger)).status == 409)
        #expect(try bob.request("/v1/groups/\(group.id)", method: "PUT", json: RenameGroupRequest(name: "mine")).status == 409)
        #expect(try alice.request("/v1/groups/\(group.id)/messages?limit=0").status == 400)
        #expect(try alice.request("/v1/groups/\(group.id)", method: "DELETE").status == 409)
        #expect(try carol.request("/v1/groups/\(group.id)", method: "DELETE").status == 204)
        let renamed = try alice.request("/v1/groups/\(group.id)", method: "PUT", json: RenameGroupRequest(name: "duo"))
        #expect(renamed.status == 200)
        try await eventually("bob sees the new name", within: 60) { try bob.get(Group.self, "/v1/groups/\(group.id)").name == "duo" }
    }
}
