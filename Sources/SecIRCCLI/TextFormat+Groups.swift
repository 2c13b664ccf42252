import Foundation
import SecIRCAPI

/// What `secirc groups …` prints without --json.
extension TextFormat {
    /// The groups, one row each: name, id prefix, members, this client's role, whether it can post.
    static func groups(_ groups: [Group], invitations: Int = 0) -> String {
        var lines: [String] = []
        if groups.isEmpty {
            lines.append("no groups yet (make one: secirc groups create <name> [<contact>...])")
        } else {
            let rows = groups.map { group in
                [group.name, String(group.id.prefix(16)), "\(group.members.count)", role(group), canPost(group)]
            }
            lines.append(table([["NAME", "ID", "MEMBERS", "ROLE", "POST"]] + rows))
        }
        if invitations > 0 {
            lines.append("\(invitations) group invitation\(invitations == 1 ? "" : "s") waiting: secirc groups invitations")
        }
        return lines.joined(separator: "\n")
    }

    /// This client's place in a group: `admin`, `member`, or `left` once it is out of the roster.
    static func role(_ group: Group) -> String {
        group.member ? (group.admin ? "admin" : "member") : "left"
    }

    /// `yes`; `no (rekey)` while the group waits for the rekey after a member left; `no` out of it.
    static func canPost(_ group: Group) -> String {
        group.canPost ? "yes" : group.member ? "no (rekey)" : "no"
    }

    /// `name (id prefix), N members`.
    static func groupLine(_ group: Group) -> String {
        "\(group.name) (\(group.id.prefix(16))), \(group.members.count) member\(group.members.count == 1 ? "" : "s")"
    }

    /// One group in full: what it is, this client's place, and its roster (admins first).
    static func group(_ group: Group, timeZone: TimeZone = .current) -> String {
        var lines = ["\(group.name)  \(group.id)"]
        lines.append("\(group.members.count) of at most \(group.limit) members; you: \(role(group)), "
            + "since \(time(group.joinedMilliseconds, timeZone: timeZone)); epoch \(group.epoch), roster serial \(group.rosterSerial)")
        if !group.member {
            lines.append("you are no longer in it: read-only (secirc groups delete \(group.id.prefix(16)) forgets it)")
        } else if !group.canPost {
            lines.append("posting waits for an admin's rekey after a member left")
        }
        let rows = group.members.map { member in
            [member.role, member.me ? "me" : member.name ?? "-", String(member.id.prefix(16))]
        }
        lines.append(table([["ROLE", "NAME", "ID"]] + rows))
        return lines.joined(separator: "\n")
    }

    /// One post: `[time] you: text` or `[time] name: text`; `names` maps member ids to names
    /// (unknown posters by id prefix).
    static func groupMessage(_ post: GroupMessage, names: [String: String], timeZone: TimeZone = .current) -> String {
        let body = post.kind == "text" ? post.text : "(\(post.kind) post)"
        let who = post.direction == "out" ? "you" : names[post.sender] ?? String(post.sender.prefix(16))
        return "[\(time(post.timestampMilliseconds, timeZone: timeZone))] \(who): \(body)"
    }

    /// The waiting invitations, one row each; `names` maps contact ids to names.
    static func invitations(_ invitations: [GroupInvitationInfo], names: [String: String], timeZone: TimeZone = .current) -> String {
        guard !invitations.isEmpty else { return "no group invitations waiting" }
        let rows = invitations.map { invitation in
            [invitation.name, String(invitation.group.prefix(16)), names[invitation.from] ?? String(invitation.from.prefix(16)),
             "\(invitation.memberCount)", time(invitation.receivedMilliseconds, timeZone: timeZone)]
        }
        return table([["NAME", "GROUP", "FROM", "MEMBERS", "RECEIVED"]] + rows) + "\nsecirc groups accept|decline <group>"
    }
}
