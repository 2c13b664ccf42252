import SecIRCAPI

/// Groups, members and invitations as the daemon sends them, for the group tests.
enum GroupFixtures {
    static let meID = String(repeating: "0a", count: 32)
    static let bobID = String(repeating: "ab", count: 32)
    static let carolID = String(repeating: "cd", count: 32)

    static func member(_ id: String, _ name: String?, admin: Bool = false, me: Bool = false) -> Group.Member {
        Group.Member(id: id, identityKey: String(repeating: "ee", count: 32), role: admin ? "admin" : "member", name: name, me: me)
    }

    static func group(_ id: String, _ name: String, member: Bool = true, admin: Bool = true, canPost: Bool = true,
                      members: [Group.Member]? = nil) -> Group {
        Group(id: id, name: name, member: member, admin: admin, canPost: canPost, rosterSerial: 3, epoch: 1, limit: 1000,
              joinedMilliseconds: 1_700_000_000_000,
              members: members ?? [Self.member(meID, "me", admin: true, me: true), Self.member(bobID, "bob"), Self.member(carolID, nil)])
    }

    static let climbing = group("3fa2" + String(repeating: "1", count: 60), "climbing")
    static let chess = group("3f99" + String(repeating: "2", count: 60), "chess", admin: false)
    static let book = group("b00c" + String(repeating: "3", count: 60), "Book Club", member: false, admin: false, canPost: false)
    static let all = [climbing, chess, book]
}
