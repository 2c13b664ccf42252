import Foundation
import SecIRCAPI
@testable import SecIRCCLI
import Testing

/// What `secirc groups …` and `secirc watch` print for groups without --json.
@Suite struct GroupTextFormatTests {
    typealias F = GroupFixtures
    static let utc = TimeZone(identifier: "UTC")!

    @Test func theListShowsRoleMembersAndPosting() {
        let waiting = F.group("9999" + String(repeating: "0", count: 60), "hiking", admin: false, canPost: false)
        #expect(TextFormat.groups(F.all + [waiting]) == """
            NAME       ID                MEMBERS  ROLE    POST
            climbing   3fa2111111111111  3        admin   yes
            chess      3f99222222222222  3        member  yes
            Book Club  b00c333333333333  3        left    no
            hiking     9999000000000000  3        member  no (rekey)
            """)
        #expect(TextFormat.groups([F.chess], invitations: 2).hasSuffix("\n2 group invitations waiting: secirc groups invitations"))
        #expect(TextFormat.groups([]) == "no groups yet (make one: secirc groups create <name> [<contact>...])")
        #expect(TextFormat.groups([], invitations: 1) == """
            no groups yet (make one: secirc groups create <name> [<contact>...])
            1 group invitation waiting: secirc groups invitations
            """)
    }

    @Test func aGroupWithItsRoster() {
        #expect(TextFormat.group(F.climbing, timeZone: Self.utc) == """
            climbing  3fa2111111111111111111111111111111111111111111111111111111111111
            3 of at most 1000 members; you: admin, since 2023-11-14 22:13:20; epoch 1, roster serial 3
            ROLE    NAME  ID
            admin   me    0a0a0a0a0a0a0a0a
            member  bob   abababababababab
            member  -     cdcdcdcdcdcdcdcd
            """)
        let left = TextFormat.group(F.book, timeZone: Self.utc)
        #expect(left.contains("you: left") && left.contains("read-only (secirc groups delete b00c333333333333 forgets it)"))
        let waiting = TextFormat.group(F.group(F.chess.id, "chess", admin: false, canPost: false), timeZone: Self.utc)
        #expect(waiting.contains("posting waits for an admin's rekey after a member left"))
        #expect(TextFormat.groupLine(F.climbing) == "climbing (3fa2111111111111), 3 members")
        #expect(TextFormat.groupLine(F.group(F.chess.id, "solo", members: [F.member(F.meID, "me", admin: true, me: true)]))
            == "solo (3f99222222222222), 1 member")
    }

    @Test func posts() {
        let names = [F.bobID: "bob"]
        func post(_ sender: String, _ direction: String, kind: String = "text", text: String) -> GroupMessage {
            GroupMessage(cursor: 4, group: F.climbing.id, id: String(repeating: "12", count: 16), sender: sender, direction: direction, kind: kind,
                         text: text, timestampMilliseconds: 1_700_000_000_000, lamport: 2, sequence: 1)
        }
        #expect(TextFormat.groupMessage(post(F.meID, "out", text: "on my way"), names: names, timeZone: Self.utc) == "[2023-11-14 22:13:20] you: on my way")
        #expect(TextFormat.groupMessage(post(F.bobID, "in", text: "hi all"), names: names, timeZone: Self.utc) == "[2023-11-14 22:13:20] bob: hi all")
        #expect(TextFormat.groupMessage(post(F.carolID, "in", text: "hey"), names: names, timeZone: Self.utc)
            == "[2023-11-14 22:13:20] cdcdcdcdcdcdcdcd: hey", "a poster who is no contact, by id")
        #expect(TextFormat.groupMessage(post(F.bobID, "in", kind: "other", text: ""), names: names, timeZone: Self.utc)
            == "[2023-11-14 22:13:20] bob: (other post)")
    }

    @Test func invitations() {
        let invitation = GroupInvitationInfo(group: F.climbing.id, from: F.bobID, name: "climbing", memberCount: 3,
                                             receivedMilliseconds: 1_700_000_001_000)
        let stranger = GroupInvitationInfo(group: F.chess.id, from: F.carolID, name: "chess", memberCount: 12, receivedMilliseconds: 1_700_000_002_000)
        #expect(TextFormat.invitations([invitation, stranger], names: [F.bobID: "bob"], timeZone: Self.utc) == """
            NAME      GROUP             FROM              MEMBERS  RECEIVED
            climbing  3fa2111111111111  bob               3        2023-11-14 22:13:21
            chess     3f99222222222222  cdcdcdcdcdcdcdcd  12       2023-11-14 22:13:22
            secirc groups accept|decline <group>
            """)
        #expect(TextFormat.invitations([], names: [:]) == "no group invitations waiting")
    }

    /// The daemon's JSON (openapi/client.yaml `Group`, snake case, null names) decodes and prints.
    @Test func theDaemonsJSONDecodes() throws {
        let json = #"{"admin":false,"can_post":true,"epoch":0,"id":"\#(F.chess.id)","joined_ms":1700000000000,"limit":1000,"member":true,"# +
            #""members":[{"id":"\#(F.bobID)","identity_key":"\#(String(repeating: "ee", count: 32))","me":false,"name":"bob","role":"admin"},"# +
            #"{"id":"\#(F.carolID)","identity_key":"\#(String(repeating: "ee", count: 32))","me":false,"name":null,"role":"member"}],"# +
            #""name":"chess","roster_serial":1}"#
        let group = try APIClient.decode(Group.self, from: Array(json.utf8))
        #expect(group.members.map(\.name) == ["bob", nil] && !group.admin && group.canPost)
        #expect(TextFormat.groups([group]) == """
            NAME   ID                MEMBERS  ROLE    POST
            chess  3f99222222222222  2        member  yes
            """)
        let page = try APIClient.decode(GroupMessagePage.self, from: Array(#"{"messages":[{"cursor":9,"direction":"in","group":"\#(F.chess.id)","id":"\#(String(repeating: "12", count: 16))","kind":"text","lamport":3,"sender":"\#(F.bobID)","sequence":1,"text":"gg","timestamp_ms":1700000000000}],"next_before":null}"#.utf8))
        #expect(page.nextBefore == nil && page.messages.first?.text == "gg")
    }

    @Test func events() {
        let names = [F.bobID: "bob"]
        let post = ServerSentEvent(event: "group_message", data: #"{"cursor":12,"direction":"in","group":"\#(F.climbing.id)","id":"\#(String(repeating: "12", count: 16))","kind":"text","lamport":4,"sender":"\#(F.bobID)","sequence":2,"text":"hi all","timestamp_ms":1700000000000}"#)
        #expect(TextFormat.event(post, names: names, timeZone: Self.utc) == "[2023-11-14 22:13:20] #3fa21111 bob: hi all")
        let own = ServerSentEvent(event: "group_message", data: post.data.replacingOccurrences(of: #""direction":"in""#, with: #""direction":"out""#))
        #expect(TextFormat.event(own, names: names, timeZone: Self.utc) == "[2023-11-14 22:13:20] #3fa21111 you: hi all")
        let joined = ServerSentEvent(event: "group_member", data: #"{"change":"made_admin","group":"\#(F.climbing.id)","member":"\#(F.bobID)","name":null}"#)
        #expect(TextFormat.event(joined, names: names) == "group 3fa2111111111111: bob made admin")
        let left = ServerSentEvent(event: "group_member", data: #"{"change":"left","group":"\#(F.climbing.id)","member":"\#(F.carolID)","name":null}"#)
        #expect(TextFormat.event(left, names: names) == "group 3fa2111111111111: cdcdcdcdcdcdcdcd left")
        let renamed = ServerSentEvent(event: "group_member", data: #"{"change":"renamed","group":"\#(F.climbing.id)","member":null,"name":"bouldering"}"#)
        #expect(TextFormat.event(renamed, names: names) == "group 3fa2111111111111 renamed to bouldering")
        let invite = ServerSentEvent(event: "group_invite", data: #"{"from":"\#(F.bobID)","group":"\#(F.climbing.id)","member_count":3,"name":"climbing","received_ms":1700000000000}"#)
        #expect(TextFormat.event(invite, names: names)
            == "group invitation from bob: climbing (3 members): secirc groups accept|decline 3fa2111111111111")
        #expect(TextFormat.eventJSON(invite) == #"{"event":"group_invite","data":\#(invite.data)}"#)
    }
}
