import Foundation
public import SecIRCAPI

extension Devnet {
    /// The first client makes a group named `name` with every other client, and each of them
    /// accepts its invitation (which travels through their pairwise session); returns the group.
    /// A group of that name the first client is in already (a reused --dir) is returned as it is.
    @discardableResult
    public func makeGroup(_ name: String) throws(DevnetError) -> Group {
        guard let admin = clients.first else { throw .cannotPrepare(path: directory, reason: "no clients for a group") }
        let others = Array(clients.dropFirst())
        let existing: Group?
        do { existing = try admin.api.decode(GroupList.self, "/v1/groups").groups.first { $0.name == name && $0.member } } catch {
            throw .requestFailed(what: "\(admin.name): GET /v1/groups", error: error)
        }
        if let existing { return existing }
        progress("\(admin.name) makes the group \"\(name)\" with \(others.map(\.name).joined(separator: " and "))")
        let group: Group
        do {
            group = try admin.api.decode(Group.self, "/v1/groups", method: "POST",
                                         json: CreateGroupRequest(name: name, members: others.map(\.id)))
        } catch {
            throw .requestFailed(what: "\(admin.name): POST /v1/groups", error: error)
        }
        for client in others {
            _ = try waitFor("\(client.name) to be invited to \"\(name)\" (through its pairwise session with \(admin.name))") {
                () throws -> Bool? in
                try client.api.decode(GroupInvitationList.self, "/v1/group-invitations").invitations.contains { $0.group == group.id }
                    ? true : nil
            }
            do {
                try client.api.call("POST", "/v1/group-invitations/\(group.id)/accept")
            } catch {
                throw .requestFailed(what: "\(client.name): accepting the invitation to \"\(name)\"", error: error)
            }
        }
        return group
    }

    /// The group smoke test: the first client posts to `group` and every other client must show
    /// the post within `timeout` seconds. One line per member.
    public func groupSmoke(_ group: Group, timeout: Double = 60, label: String = "smoke test") throws(DevnetError) -> SmokeResult {
        guard let poster = clients.first else { return SmokeResult(lines: ["needs a client"], passed: false) }
        let text = "\(label): \(poster.name) to the group \(UUID().uuidString.prefix(8).lowercased())"
        do {
            try poster.api.call("POST", "/v1/groups/\(group.id)/messages", json: SendTextRequest(text: text))
        } catch {
            throw .requestFailed(what: "\(poster.name): posting to \"\(group.name)\"", error: error)
        }
        progress("\(poster.name) posted \"\(text)\" to \"\(group.name)\"")
        let started = ContinuousClock.now
        var arrived: [String: Duration] = [:]
        let readers = clients.dropFirst()
        while arrived.count < readers.count, ContinuousClock.now - started < .milliseconds(Int64(timeout * 1000)) {
            if interrupted() { throw .interrupted }
            try checkChildren()
            for reader in readers where arrived[reader.name] == nil {
                if let page = try? reader.api.decode(GroupMessagePage.self, "/v1/groups/\(group.id)/messages?limit=50"),
                   page.messages.contains(where: { $0.text == text && $0.direction == "in" }) {
                    arrived[reader.name] = .now - started
                }
            }
            Self.pause()
        }
        let lines = readers.map { reader in
            arrived[reader.name].map { "\(poster.name) → group \"\(group.name)\": read by \(reader.name) after \(Self.seconds($0))" }
                ?? "\(poster.name) → group \"\(group.name)\": not read by \(reader.name) within \(Int(timeout)) s"
        }
        return SmokeResult(lines: lines, passed: arrived.count == readers.count)
    }
}
