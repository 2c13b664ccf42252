import Foundation

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
            [contact.name, String(contact.id.prefix(16)), contact.session ?? "-",
             contact.addedMilliseconds.map { time($0, timeZone: timeZone) } ?? "-"]
        }
        return table([["NAME", "ID", "SESSION", "ADDED"]] + rows)
    }

    static func contact(_ contact: Contact) -> String {
        "\(contact.name) (\(contact.id.prefix(16))), session \(contact.session ?? "unknown")"
    }

    /// One message: `[time] you: text (state)` or `[time] name: text`.
    static func message(_ message: Message, contactName: String, timeZone: TimeZone = .current) -> String {
        let when = message.timestampMilliseconds.map { "[\(time($0, timeZone: timeZone))] " } ?? ""
        let body = message.text ?? "(\(message.kind ?? "unknown") message)"
        if message.direction == "out" {
            return "\(when)you → \(contactName): \(body) (\(message.state ?? "unknown"))"
        }
        return "\(when)\(contactName): \(body)"
    }

    /// One event of `/v1/events` as a line; `names` maps contact ids to names.
    static func event(_ event: ServerSentEvent, names: [String: String], timeZone: TimeZone = .current) -> String {
        let bytes = Array(event.data.utf8)
        func name(_ id: String) -> String { names[id] ?? String(id.prefix(16)) }
        switch event.event {
        case "message":
            if let message = try? APIClient.decode(Message.self, from: bytes) {
                return self.message(message, contactName: name(message.contact), timeZone: timeZone)
            }
        case "receipt":
            if let receipt = try? APIClient.decode(Receipt.self, from: bytes) {
                return "\(receipt.state) \(receipt.id.prefix(8)) to \(name(receipt.contact))"
            }
        case "contact":
            if let contact = try? APIClient.decode(Contact.self, from: bytes) {
                return "contact \(self.contact(contact))"
            }
        default:
            break
        }
        return "\(event.event) \(event.data)"
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
            var text = "serial \(directory.serial)"
            if let relays = directory.relays { text += ", \(relays) relays" }
            if let age = directory.ageSeconds { text += ", \(age) s old" }
            if let until = directory.validUntil { text += ", valid until \(time(until * 1000, timeZone: timeZone))" }
            rows.append(["directory", text])
        } else {
            rows.append(["directory", "none verified yet"])
        }
        for relay in status.relays ?? [] {
            rows.append(["relay", "\(relay.id.prefix(16))  \(relay.udp ?? "-")  \(relay.linked == true ? "linked" : "not linked")"])
        }
        for mailbox in status.mailboxes ?? [] {
            rows.append(["mailbox", "\(mailbox.mailboxID.prefix(16)) at relay \(mailbox.relayID.prefix(16))"])
        }
        if let length = status.pathLength { rows.append(["path length", "\(length)"]) }
        if let cover = status.coverTraffic {
            rows.append(["cover traffic", "\(cover)" + (status.coverPacketsSent.map { ", \($0) cover packets sent" } ?? "")])
        }
        rows.append(["packets", "\(status.packetsSent ?? 0) sent, \(status.packetsReceived ?? 0) received"])
        if let outbox = status.outbox { rows.append(["outbox", "\(outbox) waiting"]) }
        return table(rows)
    }
}
