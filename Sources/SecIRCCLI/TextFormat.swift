import Foundation
import SecIRCAPI

/// The human-readable forms of the API's answers (what `secirc` prints without `--json`).
/// Pure functions of their input and a time zone, so tests pin them.
enum TextFormat {
    /// Unix milliseconds as "yyyy-MM-dd HH:mm:ss" in `timeZone`.
    static func time(_ milliseconds: Int64, timeZone: TimeZone = .current) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0,
                      c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func contacts(_ contacts: [Contact], timeZone: TimeZone = .current) -> String {
        guard !contacts.isEmpty else { return "no contacts yet (add one: secirc contacts add <secirc:... invite>)" }
        let rows = contacts.map { contact in
            [contact.name, String(contact.id.prefix(16)), contact.state == "requested" ? "request" : contact.session,
             time(contact.addedMilliseconds, timeZone: timeZone)]
        }
        var text = table([["NAME", "ID", "SESSION", "ADDED"]] + rows)
        let requests = contacts.count { $0.state == "requested" }
        if requests > 0 {
            text += "\n\(requests) contact request\(requests == 1 ? "" : "s") (SESSION request): secirc contacts accept|reject <contact>"
        }
        return text
    }

    /// A contact's deposit queues, one row per mailbox relay.
    static func queues(_ queues: [DepositQueues.Queue], of name: String, timeZone: TimeZone = .current) -> String {
        guard !queues.isEmpty else { return "\(name) has no queue of its own yet (it writes to your invite's address)" }
        let rows = queues.map { queue in
            [String(queue.relay.prefix(16)), queue.state, queue.closeAtMilliseconds.map { time($0, timeZone: timeZone) } ?? "",
             time(queue.createdMilliseconds, timeZone: timeZone)]
        }
        return table([["RELAY", "STATE", "UNTIL", "CREATED"]] + rows)
    }

    static func contact(_ contact: Contact) -> String {
        "\(contact.name) (\(contact.id.prefix(16))), " + (contact.state == "requested" ? "a contact request" : "session \(contact.session)")
    }

    /// One message: `[time] you → name: text (state)` or `[time] name: text`.
    static func message(_ message: Message, contactName: String, timeZone: TimeZone = .current) -> String {
        let when = "[\(time(message.timestampMilliseconds, timeZone: timeZone))] "
        let body = message.kind == "text" ? message.text : "(\(message.kind) message)"
        if message.direction == "out" {
            return "\(when)you → \(contactName): \(body) (\(message.state))"
        }
        return "\(when)\(contactName): \(body)"
    }

    /// One event of `/v1/events` as a line; `names` maps contact ids to names.
    static func event(_ event: ServerSentEvent, names: [String: String], timeZone: TimeZone = .current) -> String {
        func name(_ id: String) -> String { names[id] ?? String(id.prefix(16)) }
        switch APIEvent(event) {
        case let .message(message)?:
            return self.message(message, contactName: name(message.contact), timeZone: timeZone)
        case let .receipt(receipt)?:
            return "\(receipt.state) \(receipt.id.prefix(8)) to \(name(receipt.contact))"
        case let .contact(contact)?:
            return "contact \(self.contact(contact))"
        case let .request(contact)?:
            return "contact request from \(contact.name) (\(contact.id.prefix(16))): secirc contacts accept|reject \(String(contact.id.prefix(16)))"
        case let .groupMessage(post)?:
            let body = post.kind == "text" ? post.text : "(\(post.kind) post)"
            let who = post.direction == "out" ? "you" : name(post.sender)
            return "[\(time(post.timestampMilliseconds, timeZone: timeZone))] #\(post.group.prefix(8)) \(who): \(body)"
        case let .groupMember(change)?:
            if change.change == "renamed" { return "group \(change.group.prefix(16)) renamed to \(change.name ?? "")" }
            return "group \(change.group.prefix(16)): \(change.member.map(name) ?? "?") \(change.change.replacingOccurrences(of: "_", with: " "))"
        case let .groupInvite(invitation)?:
            return "group invitation from \(name(invitation.from)): \(invitation.name) (\(invitation.memberCount) members): "
                + "secirc groups accept|decline \(String(invitation.group.prefix(16)))"
        case nil:
            return "\(event.event) \(event.data)"
        }
    }

    /// An event as one JSON line: `{"event":"message","data":{...}}`.
    static func eventJSON(_ event: ServerSentEvent) -> String {
        let name = (try? JSONEncoder().encode(event.event)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
        // Raw newlines in JSON text are whitespace between tokens (newlines inside strings are
        // escaped), so joining the data lines keeps the JSON and makes one line.
        let data = event.data.replacingOccurrences(of: "\n", with: " ")
        let valid = (try? JSONSerialization.jsonObject(with: Data(data.utf8), options: [.fragmentsAllowed])) != nil
        let payload = valid ? data : ((try? JSONEncoder().encode(event.data)).map { String(decoding: $0, as: UTF8.self) } ?? "null")
        return "{\"event\":\(name),\"data\":\(payload)}"
    }

    static func network(_ status: NetworkStatus, timeZone: TimeZone = .current) -> String {
        var rows: [[String]] = []
        if let directory = status.directory {
            rows.append(["directory", "serial \(directory.serial), \(directory.relays) relays, \(directory.ageSeconds) s old (\(directory.channel)), "
                + "valid until \(time(directory.validUntil * 1000, timeZone: timeZone))"])
            rows.append(["first ring", "\(directory.ringMembers) members, \(directory.ringThreshold) sign, roster epoch \(directory.rosterEpoch)"])
        } else {
            rows.append(["directory", "none verified yet"])
        }
        for relay in status.relays {
            rows.append(["relay", "\(relay.id.prefix(16))  \(relay.udp)  \(relay.linked ? "linked" : "not linked")"])
        }
        for mailbox in status.mailboxes {
            rows.append(["mailbox", "\(mailbox.mailboxID.prefix(16)) at relay \(mailbox.relayID.prefix(16))"])
        }
        rows.append(["path length", "\(status.pathLength)"])
        rows.append(["cover traffic", "\(status.coverTraffic), \(status.coverPacketsSent) cover packets sent"])
        rows.append(["packets", "\(status.packetsSent) sent, \(status.packetsReceived) received"])
        rows.append(["outbox", "\(status.outbox) waiting"])
        return table(rows)
    }
}
