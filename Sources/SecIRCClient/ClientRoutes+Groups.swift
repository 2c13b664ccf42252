import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCNode

// Groups (openapi/client.yaml, tag groups): each handler is one messenger call (one store
// transaction); changes wake the network thread, which deposits what they queued.
extension ClientRoutes {
    func groupRoutes(_ router: HTTPRouter, auth: HTTPAuth) {
        router.get("/v1/groups", auth: auth) { _ in try mapped { try listGroups() } }
        router.post("/v1/groups", auth: auth) { request in try mapped { try createGroup(request) } }
        router.get("/v1/groups/:id", auth: auth) { request in try mapped { try showGroup(request) } }
        router.put("/v1/groups/:id", auth: auth) { request in try mapped { try renameGroup(request) } }
        router.delete("/v1/groups/:id", auth: auth) { request in try mapped { try deleteGroup(request) } }
        router.post("/v1/groups/:id/leave", auth: auth) { request in try mapped { try leaveGroup(request) } }
        router.get("/v1/groups/:id/messages", auth: auth) { request in try mapped { try groupMessages(request) } }
        router.post("/v1/groups/:id/messages", auth: auth) { request in try mapped { try postToGroup(request) } }
        router.post("/v1/groups/:id/members", auth: auth) { request in try mapped { try addMember(request) } }
        router.put("/v1/groups/:id/members/:member", auth: auth) { request in try mapped { try setRole(request) } }
        router.delete("/v1/groups/:id/members/:member", auth: auth) { request in try mapped { try removeMember(request) } }
        router.get("/v1/group-invitations", auth: auth) { _ in try mapped { try groupInvitations() } }
        router.post("/v1/group-invitations/:id/accept", auth: auth) { request in try mapped { try acceptInvitation(request) } }
        router.post("/v1/group-invitations/:id/decline", auth: auth) { request in try mapped { try declineInvitation(request) } }
    }

    private func listGroups() throws -> HTTPResponse {
        let names = try contactNames()
        return .json(GroupList(groups: try messenger.groups().map { Group($0, me: messenger.identity.id, names: names) }))
    }

    private func createGroup(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try request.decodeJSON(CreateGroupRequest.self)
        let members = try body.members.map { text in
            guard text.count == 64, let id = try? ID(hex: text.lowercased()) else {
                throw HTTPError.invalidRequest("members are contact ids (64 hex digits)")
            }
            return id
        }
        var rng = SystemRandom()
        let view = try messenger.createGroup(name: body.name, members: members, now: clock(), rng: &rng)
        poke()
        for event in view.events { events.publish(event) }
        return try groupResponse(view, status: 201)
    }

    private func showGroup(_ request: HTTPRequest) throws -> HTTPResponse {
        try groupResponse(messenger.group(id: groupID(request)))
    }

    private func renameGroup(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try groupID(request)
        let body = try request.decodeJSON(RenameGroupRequest.self)
        var rng = SystemRandom()
        return try changed(messenger.renameGroup(id, to: body.name, now: clock(), rng: &rng))
    }

    private func deleteGroup(_ request: HTTPRequest) throws -> HTTPResponse {
        try messenger.deleteGroup(groupID(request))
        return .noContent
    }

    private func leaveGroup(_ request: HTTPRequest) throws -> HTTPResponse {
        var rng = SystemRandom()
        return try changed(messenger.leaveGroup(groupID(request), now: clock(), rng: &rng))
    }

    private func groupMessages(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try groupID(request)
        let limit = try Self.integer(request.query["limit"], name: "limit", default: 50, range: 1...500)
        let before = try request.query["before"].map { try Self.integer($0, name: "before", default: 0, range: 1...Int64.max) }
        let page = try messenger.groupMessages(in: id, before: before, limit: Int(limit))
        return .json(GroupMessagePage(messages: page.messages.map(GroupMessage.init),
                                      nextBefore: page.more ? page.messages.first?.cursor : nil))
    }

    private func postToGroup(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try groupID(request)
        let body = try request.decodeJSON(SendTextRequest.self)
        var rng = SystemRandom()
        let record = try messenger.postToGroup(id, text: body.text, now: clock(), rng: &rng)
        poke()
        events.publish(.groupMessage(record))
        return .json(GroupMessage(record), status: 202)
    }

    private func addMember(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try groupID(request)
        let body = try request.decodeJSON(AddGroupMemberRequest.self)
        guard body.contact.count == 64, let contact = try? ID(hex: body.contact.lowercased()) else {
            throw HTTPError.invalidRequest("contact is a contact id (64 hex digits)")
        }
        var rng = SystemRandom()
        return try changed(messenger.addToGroup(id, contact: contact, now: clock(), rng: &rng))
    }

    private func setRole(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try groupID(request)
        let member = try memberID(request)
        let body = try request.decodeJSON(SetGroupRoleRequest.self)
        var rng = SystemRandom()
        return try changed(messenger.setGroupRole(id, member: member, admin: body.admin, now: clock(), rng: &rng))
    }

    private func removeMember(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try groupID(request)
        let member = try memberID(request)
        var rng = SystemRandom()
        return try changed(messenger.removeFromGroup(id, member: member, now: clock(), rng: &rng))
    }

    private func groupInvitations() throws -> HTTPResponse {
        .json(GroupInvitationList(invitations: try messenger.groupInvitations().map(GroupInvitationInfo.init)))
    }

    private func acceptInvitation(_ request: HTTPRequest) throws -> HTTPResponse {
        var rng = SystemRandom()
        return try changed(messenger.acceptGroupInvitation(groupID(request), now: clock(), rng: &rng))
    }

    private func declineInvitation(_ request: HTTPRequest) throws -> HTTPResponse {
        try messenger.declineGroupInvitation(groupID(request))
        return .noContent
    }

    // MARK: Helpers

    /// A change was stored: the network thread deposits what it queued, and the event streams
    /// hear of it (another front end of the same daemon included).
    private func changed(_ view: Messenger.GroupView) throws -> HTTPResponse {
        poke()
        for event in view.events { events.publish(event) }
        return try groupResponse(view)
    }

    private func groupResponse(_ view: Messenger.GroupView, status: Int = 200) throws -> HTTPResponse {
        .json(Group(view, me: messenger.identity.id, names: try contactNames()), status: status)
    }

    private func contactNames() throws -> [ID: String] {
        Dictionary(try messenger.contacts().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    private func groupID(_ request: HTTPRequest) throws -> ID {
        guard let text = request.pathParameters["id"], text.count == 64, let id = try? ID(hex: text.lowercased()) else {
            throw HTTPError.notFound("no group \(request.pathParameters["id"]?.prefix(80) ?? "")")
        }
        return id
    }

    private func memberID(_ request: HTTPRequest) throws -> ID {
        guard let text = request.pathParameters["member"], text.count == 64, let id = try? ID(hex: text.lowercased()) else {
            throw HTTPError.notFound("no member \(request.pathParameters["member"]?.prefix(80) ?? "")")
        }
        return id
    }
}

extension Group {
    init(_ view: Messenger.GroupView, me: ID, names: [ID: String]) {
        let roster = view.roster
        let members = roster.members.map { key, role in
            Member(id: key.id.hex, identityKey: key.rawValue.hex, role: role == .admin ? "admin" : "member",
                   name: key.id == me ? "me" : names[key.id], me: key.id == me)
        }.sorted { ($0.role == "admin" ? 0 : 1, $0.id) < ($1.role == "admin" ? 0 : 1, $1.id) }
        self.init(id: view.record.id.hex, name: view.record.name, member: view.record.isMember,
                  admin: roster.members.contains { $0.key.id == me && $0.value == .admin }, canPost: view.canPost,
                  rosterSerial: roster.serial, epoch: view.epoch, limit: Int(roster.limit), joinedMilliseconds: view.record.joinedMs,
                  members: members)
    }
}

extension GroupMessage {
    init(_ record: GroupMessageRecord) {
        self.init(cursor: record.cursor, group: record.group.hex, id: record.id.hex, sender: record.sender.hex,
                  direction: record.outgoing ? "out" : "in", kind: record.kind == .text ? "text" : "other", text: record.text,
                  timestampMilliseconds: record.timestampMs, lamport: record.lamport, sequence: record.sequence)
    }
}

extension GroupInvitationInfo {
    init(_ record: GroupInvitationRecord) {
        self.init(group: record.group.hex, from: record.from.hex, name: record.name, memberCount: record.memberCount,
                  receivedMilliseconds: record.receivedMs)
    }
}
