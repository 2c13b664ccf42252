import Foundation
import SecIRCAPI
import Testing

/// The client API's values against the JSON of openapi/client.yaml.
@Suite struct APITypesTests {
    static let contactID = String(repeating: "ab", count: 32)
    static let messageJSON = #"{"attempts":0,"contact":"\#(contactID)","cursor":7,"direction":"in","id":"0123456789abcdef0123456789abcdef","kind":"text","state":"received","text":"hi","timestamp_ms":1700000000000}"#
    static let message = Message(id: "0123456789abcdef0123456789abcdef", contact: contactID, direction: "in", text: "hi",
                                 timestampMilliseconds: 1_700_000_000_000, state: "received", cursor: 7)

    private static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func theSpecsEventExampleDecodes() throws {
        // openapi/client.yaml, /v1/events, example "message" (with a real contact id).
        let event = ServerSentEvent(event: "message", data: Self.messageJSON)
        #expect(APIEvent(event) == .message(Self.message))
        #expect(APIEvent(event)?.serverSentEvent == event, "sent as it was received: one line, sorted keys")
    }

    @Test func eventsRoundTripAndUnknownOnesAreNil() {
        let contact = Contact(id: Self.contactID, name: "bob", identityKey: String(repeating: "cd", count: 32),
                              addedMilliseconds: 1_700_000_000_000, session: "established")
        for event in [APIEvent.message(Self.message), .receipt(Receipt(id: Self.message.id, contact: Self.contactID)), .contact(contact)] {
            #expect(APIEvent(event.serverSentEvent) == event)
            #expect(event.serverSentEvent.event == event.name)
        }
        #expect(APIEvent(ServerSentEvent(event: "later", data: "{}")) == nil)
        #expect(APIEvent(ServerSentEvent(event: "message", data: #"{"id":"1"}"#)) == nil, "a message without its fields")
        #expect(APIEvent(ServerSentEvent(event: "receipt", data: "not json")) == nil)
    }

    @Test func nullableValuesAreSentAsNull() throws {
        #expect(try Self.json(MessagePage(messages: [], nextBefore: nil)) == #"{"messages":[],"next_before":null}"#)
        #expect(try Self.json(MessagePage(messages: [], nextBefore: 3)) == #"{"messages":[],"next_before":3}"#)
        let contact = Contact(id: "1", name: "a/b", identityKey: "2", addedMilliseconds: 5, session: "initiated")
        #expect(try Self.json(Conversation(contact: contact, last: nil, count: 0))
            == #"{"contact":{"added_ms":5,"id":"1","identity_key":"2","name":"a/b","session":"initiated","state":"accepted"},"count":0,"last":null}"#)
        let network = NetworkStatus(directory: nil, mailboxes: [], relays: [], pathLength: 3, coverTraffic: "off", coverPacketsSent: 0,
                                    packetsSent: 0, packetsReceived: 0, coverPacketsReceived: 0, drops: [:], outbox: 0)
        #expect(try Self.json(network).contains(#""directory":null"#))
        let decoded = try APIClient.decode(NetworkStatus.self, from: Array(try Self.json(network).utf8))
        #expect(decoded == network)
    }

    @Test func requestsAndTheErrorBody() throws {
        #expect(try Self.json(AddContactRequest(invite: "secirc:x")) == #"{"invite":"secirc:x"}"#)
        #expect(try Self.json(AddContactRequest(invite: "secirc:x", name: "bob")) == #"{"invite":"secirc:x","name":"bob"}"#)
        #expect(try Self.json(RenameContactRequest(name: "robert")) == #"{"name":"robert"}"#)
        #expect(try Self.json(SendTextRequest(text: "hi")) == #"{"text":"hi"}"#)
        let error = try APIClient.decode(ErrorBody.self, from: Array(#"{"error":{"code":"not_found","message":"no contact"}}"#.utf8))
        #expect(error == ErrorBody(code: "not_found", message: "no contact"))
        #expect(try Self.json(error) == #"{"error":{"code":"not_found","message":"no contact"}}"#)
    }

    @Test func aMissingRequiredFieldIsAnInvalidResponse() {
        #expect(throws: APIError.self) {
            try APIClient.decode(Contact.self, from: Array(#"{"id":"1","name":"bob"}"#.utf8))
        }
        #expect(throws: APIError.self) {
            try APIClient.decode(InviteResponse.self, from: Array(#"{"uri":"secirc:x","expires_ms":1}"#.utf8))
        }
    }
}
