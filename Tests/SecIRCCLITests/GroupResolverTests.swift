import SecIRCAPI
@testable import SecIRCCLI
import Testing

/// A <group> argument (a name or an id prefix of 4 hex digits or more), an invitation's, and a
/// roster <member>.
@Suite struct GroupResolverTests {
    typealias F = GroupFixtures

    @Test(arguments: [("climbing", F.climbing), ("chess", F.chess), ("Book Club", F.book), ("book club", F.book), ("CHESS", F.chess)])
    func byName(_ query: String, _ expected: Group) throws {
        #expect(try GroupResolver.group(query, in: F.all) == expected)
    }

    @Test func byFullIDAndPrefixOfFourOrMore() throws {
        #expect(try GroupResolver.group(F.climbing.id, in: F.all) == F.climbing)
        #expect(try GroupResolver.group(F.climbing.id.uppercased(), in: F.all) == F.climbing)
        #expect(try GroupResolver.group("3fa2", in: F.all) == F.climbing)
        #expect(try GroupResolver.group("3F99", in: F.all) == F.chess)
        #expect(try GroupResolver.group("b00c3333", in: F.all) == F.book)
    }

    @Test func aShorterPrefixIsNoID() {
        #expect(throws: GroupResolutionError.notFound(.group, "b00")) { try GroupResolver.group("b00", in: F.all) }
        #expect(throws: GroupResolutionError.notFound(.group, "3f")) { try GroupResolver.group("3f", in: F.all) }
        #expect(GroupResolutionError.notFound(.group, "3f").description.contains("4 hex digits or more"))
    }

    @Test func anAmbiguousPrefixIsRefusedWithTheCandidates() throws {
        let twin = F.group("3fa2" + String(repeating: "9", count: 60), "bouldering")
        let expected = GroupResolutionError.ambiguous(.group, "3fa2", [
            .init(name: "climbing", id: F.climbing.id), .init(name: "bouldering", id: twin.id),
        ])
        #expect(throws: expected) { try GroupResolver.group("3fa2", in: F.all + [twin]) }
        #expect(expected.description == "\"3fa2\" fits 2 groups: climbing (3fa211111111), bouldering (3fa299999999); give more of the id")
        #expect(try GroupResolver.group("3fa29", in: F.all + [twin]) == twin)
    }

    @Test func aNameTwoGroupsShareIsAmbiguous() throws {
        let other = F.group("cafe" + String(repeating: "4", count: 60), "chess")
        #expect(throws: GroupResolutionError.ambiguous(.group, "chess", [.init(name: "chess", id: F.chess.id), .init(name: "chess", id: other.id)])) {
            try GroupResolver.group("chess", in: F.all + [other])
        }
        #expect(try GroupResolver.group("cafe", in: F.all + [other]) == other, "the id prefix tells them apart")
    }

    @Test func anExactNameWinsOverAnIDPrefix() throws {
        let named = F.group("0000" + String(repeating: "5", count: 60), "3fa2")
        #expect(try GroupResolver.group("3fa2", in: F.all + [named]) == named)
    }

    @Test func unknownAndEmpty() {
        #expect(throws: GroupResolutionError.notFound(.group, "knitting")) { try GroupResolver.group("knitting", in: F.all) }
        #expect(throws: GroupResolutionError.notFound(.group, "3fa3")) { try GroupResolver.group("3fa3", in: F.all) }
        #expect(throws: GroupResolutionError.empty(.group)) { try GroupResolver.group("", in: F.all) }
        #expect(throws: GroupResolutionError.notFound(.group, "chess")) { try GroupResolver.group("chess", in: []) }
        #expect(GroupResolutionError.empty(.group).description == "no group given")
        #expect(GroupResolutionError.notFound(.group, "knitting").description.hasPrefix("no group is named \"knitting\""))
    }

    @Test func invitationsByGroupNameOrID() throws {
        let a = GroupInvitationInfo(group: "77aa" + String(repeating: "6", count: 60), from: F.bobID, name: "climbing", memberCount: 3,
                                    receivedMilliseconds: 0)
        let b = GroupInvitationInfo(group: "77ab" + String(repeating: "7", count: 60), from: F.carolID, name: "climbing", memberCount: 2,
                                    receivedMilliseconds: 0)
        let c = GroupInvitationInfo(group: "88cc" + String(repeating: "8", count: 60), from: F.bobID, name: "poker", memberCount: 5,
                                    receivedMilliseconds: 0)
        #expect(try GroupResolver.invitation("poker", in: [a, b, c]) == c)
        #expect(try GroupResolver.invitation("77ab", in: [a, b, c]) == b)
        #expect(try GroupResolver.invitation(a.group, in: [a, b, c]) == a)
        #expect(throws: GroupResolutionError.ambiguous(.invitation, "climbing", [.init(name: "climbing", id: a.group), .init(name: "climbing", id: b.group)])) {
            try GroupResolver.invitation("climbing", in: [a, b, c])
        }
        #expect(throws: GroupResolutionError.notFound(.invitation, "chess")) { try GroupResolver.invitation("chess", in: [a, b, c]) }
        #expect(GroupResolutionError.notFound(.invitation, "chess").description.contains("secirc groups invitations"))
    }

    @Test func membersByRosterNameOrAnyIDPrefix() throws {
        let group = F.climbing
        #expect(try GroupResolver.member("bob", of: group).id == F.bobID)
        #expect(try GroupResolver.member("BOB", of: group).id == F.bobID)
        #expect(try GroupResolver.member("cd", of: group).id == F.carolID, "a member who is no contact, by id prefix")
        #expect(try GroupResolver.member("me", of: group).me)
        #expect(try GroupResolver.member(F.bobID.uppercased(), of: group).id == F.bobID)
        #expect(throws: GroupResolutionError.notFound(.member(of: "climbing"), "dave")) { try GroupResolver.member("dave", of: group) }
        #expect(GroupResolutionError.notFound(.member(of: "climbing"), "dave").description
            == "no member of climbing is named \"dave\" or has an id starting with it (secirc groups show lists the roster)")
        let twins = F.group(group.id, group.name, members: [F.member(F.bobID, "bob"), F.member("ab" + String(repeating: "f", count: 62), nil)])
        #expect(throws: GroupResolutionError.ambiguous(.member(of: "climbing"), "ab", [.init(name: "bob", id: F.bobID),
                                                                                        .init(name: "", id: twins.members[1].id)])) {
            try GroupResolver.member("ab", of: twins)
        }
        #expect(GroupResolutionError.ambiguous(.member(of: "climbing"), "ab", [.init(name: "", id: twins.members[1].id)]).description
            .contains("? (abffffffffff)"), "a member without a name is shown by id")
    }
}
