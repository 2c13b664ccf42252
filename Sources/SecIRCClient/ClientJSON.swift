import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCNode

/// The JSON shapes of the client API (openapi/client.yaml).
enum ClientJSON {
    struct Contact: Codable, Equatable {
        var id: String
        var name: String
        var identityKey: String
        var addedMs: Int64
        var session: String

        enum CodingKeys: String, CodingKey {
            case id, name, session
            case identityKey = "identity_key"
            case addedMs = "added_ms"
        }

        init(_ record: ContactRecord) {
            id = record.id.hex
            name = record.name
            identityKey = record.identityKey.rawValue.hex
            addedMs = record.addedMs
            session = record.session.rawValue
        }
    }

    struct Message: Codable, Equatable {
        var id: String
        var contact: String
        var direction: String
        var kind: String
        var text: String
        var timestampMs: Int64
        var state: String
        var attempts: Int
        var cursor: Int64

        enum CodingKeys: String, CodingKey {
            case id, contact, direction, kind, text, state, attempts, cursor
            case timestampMs = "timestamp_ms"
        }

        init(_ record: MessageRecord) {
            id = record.id.hex
            contact = record.contact.hex
            direction = record.direction.rawValue
            kind = record.kind == .text ? "text" : "other"
            text = record.text
            timestampMs = record.timestampMs
            state = record.state.rawValue
            attempts = record.attempts
            cursor = record.cursor
        }
    }

    struct Receipt: Codable, Equatable {
        var id: String
        var contact: String
        var state = "delivered"
    }

    struct Mailbox: Codable, Equatable {
        var relayID: String
        var mailboxID: String
        enum CodingKeys: String, CodingKey {
            case relayID = "relay_id"
            case mailboxID = "mailbox_id"
        }
        init(_ address: MailboxAddress) {
            relayID = address.relayID.hex
            mailboxID = address.mailboxID.hex
        }
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }

    /// The SSE event name and its JSON data.
    static func event(_ event: ClientEvent) -> (String, String) {
        switch event {
        case let .message(record): ("message", encode(Message(record)))
        case let .receipt(id, contact): ("receipt", encode(Receipt(id: id.hex, contact: contact.hex)))
        case let .contact(record): ("contact", encode(Contact(record)))
        }
    }
}
