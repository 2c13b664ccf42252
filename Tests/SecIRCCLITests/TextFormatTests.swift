import Foundation
import SecIRCAPI
@testable import SecIRCCLI
import Testing

/// What `secirc` prints without --json.
@Suite struct TextFormatTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let bobID = String(repeating: "ab", count: 32)

    @Test func timeIsLocalCalendarTime() {
        #expect(TextFormat.time(1_700_000_000_123, timeZone: Self.utc) == "2023-11-14 22:13:20")
    }

    @Test func tableAlignsColumns() {
        #expect(TextFormat.table([["a", "bb", "c"], ["ccc", "d", "e"]]) == "a    bb  c\nccc  d   e")
    }

    @Test func contacts() {
        let bob = Contact(id: Self.bobID, name: "bob", identityKey: String(repeating: "cd", count: 32),
                          addedMilliseconds: 1_700_000_000_000, session: "established")
        #expect(TextFormat.contacts([bob], timeZone: Self.utc) == """
            NAME  ID                SESSION      ADDED
            bob   abababababababab  established  2023-11-14 22:13:20
            """)
        #expect(TextFormat.contacts([]).hasPrefix("no contacts yet"))
    }

    @Test func contactRequestsAreListedAndSaySo() {
        let bob = Contact(id: Self.bobID, name: "bob", identityKey: String(repeating: "cd", count: 32),
                          addedMilliseconds: 1_700_000_000_000, session: "established")
        let eve = Contact(id: String(repeating: "ef", count: 32), name: "bob (2)", identityKey: String(repeating: "12", count: 32),
                          addedMilliseconds: 1_700_000_001_000, session: "established", state: "requested")
        #expect(TextFormat.contacts([bob, eve], timeZone: Self.utc) == """
            NAME     ID                SESSION      ADDED
            bob      abababababababab  established  2023-11-14 22:13:20
            bob (2)  efefefefefefefef  request      2023-11-14 22:13:21
            1 contact request (SESSION request): secirc contacts accept|reject <contact>
            """)
        #expect(TextFormat.contact(eve) == "bob (2) (efefefefefefefef), a contact request")
        let event = ServerSentEvent(event: "request", data: #"{"added_ms":1700000001000,"id":"\#(eve.id)","identity_key":"\#(eve.identityKey)","name":"bob (2)","session":"established","state":"requested"}"#)
        #expect(TextFormat.event(event, names: [:])
            == "contact request from bob (2) (efefefefefefefef): secirc contacts accept|reject efefefefefefefef")
    }

    @Test func messages() {
        let out = Message(id: "01", contact: Self.bobID, direction: "out", text: "hi", timestampMilliseconds: 1_700_000_000_000, state: "delivered")
        #expect(TextFormat.message(out, contactName: "bob", timeZone: Self.utc) == "[2023-11-14 22:13:20] you → bob: hi (delivered)")
        let incoming = Message(id: "02", contact: Self.bobID, direction: "in", text: "hello", timestampMilliseconds: 1_700_000_001_000, state: "received")
        #expect(TextFormat.message(incoming, contactName: "bob", timeZone: Self.utc) == "[2023-11-14 22:13:21] bob: hello")
    }

    @Test func events() {
        let names = [Self.bobID: "bob"]
        let message = ServerSentEvent(event: "message", data: #"{"id":"02","contact":"\#(Self.bobID)","direction":"in","kind":"text","text":"yo","timestamp_ms":1700000000000,"state":"received","attempts":0,"cursor":3}"#)
        #expect(TextFormat.event(message, names: names, timeZone: Self.utc) == "[2023-11-14 22:13:20] bob: yo")
        let receipt = ServerSentEvent(event: "receipt", data: #"{"id":"0123456789abcdef0123456789abcdef","contact":"\#(Self.bobID)","state":"delivered"}"#)
        #expect(TextFormat.event(receipt, names: names) == "delivered 01234567 to bob")
        let contact = ServerSentEvent(event: "contact", data: #"{"added_ms":1700000000000,"id":"\#(Self.bobID)","identity_key":"\#(String(repeating: "cd", count: 32))","name":"bob","session":"established"}"#)
        #expect(TextFormat.event(contact, names: [:]) == "contact bob (abababababababab), session established")
        let unknown = ServerSentEvent(event: "later", data: "{}")
        #expect(TextFormat.event(unknown, names: names) == "later {}")
        #expect(TextFormat.event(ServerSentEvent(event: "receipt", data: #"{"id":"1","contact":"ff","state":"delivered"}"#), names: [:])
            == "delivered 1 to ff", "unknown contacts by id")
    }

    @Test func eventJSONIsOneLine() throws {
        let line = TextFormat.eventJSON(ServerSentEvent(event: "message", data: "{\"a\":\n1}"))
        #expect(line == #"{"event":"message","data":{"a": 1}}"#)
        let notJSON = TextFormat.eventJSON(ServerSentEvent(event: "x", data: "plain \"text\""))
        let object = try JSONSerialization.jsonObject(with: Data(notJSON.utf8)) as? [String: String]
        #expect(object == ["event": "x", "data": "plain \"text\""])
    }

    @Test func network() throws {
        let json = #"{"directory":{"serial":4,"valid_after":1700000000,"valid_until":1700003600,"age_seconds":12,"relays":3,"channel":"https-pinned","fetched_at":1699999990,"roster_epoch":2,"ring_members":4,"ring_threshold":3},"mailboxes":[{"relay_id":"\#(Self.bobID)","mailbox_id":"\#(String(repeating: "cd", count: 32))"}],"relays":[{"id":"\#(Self.bobID)","udp":"127.0.0.1:7001","linked":true}],"path_length":3,"cover_traffic":"off","cover_packets_sent":0,"packets_sent":5,"packets_received":7,"cover_packets_received":0,"drops":{},"outbox":0}"#
        let status = try APIClient.decode(NetworkStatus.self, from: Array(json.utf8))
        let text = TextFormat.network(status, timeZone: Self.utc)
        #expect(text.contains("directory      serial 4, 3 relays, 12 s old (https-pinned), valid until 2023-11-14 23:13:20"))
        #expect(text.contains("relay          abababababababab  127.0.0.1:7001  linked"))
        #expect(text.contains("first ring     4 members, 3 sign, roster epoch 2"))
        // A daemon from before governance sends no ring fields: still read.
        let older = json.replacingOccurrences(of: #","roster_epoch":2,"ring_members":4,"ring_threshold":3"#, with: "")
        #expect(try APIClient.decode(NetworkStatus.self, from: Array(older.utf8)).directory?.rosterEpoch == 0)
        #expect(text.contains("packets        5 sent, 7 received"))
        let none = try APIClient.decode(NetworkStatus.self, from: Array(#"{"directory":null,"mailboxes":[],"relays":[],"path_length":3,"cover_traffic":"off","cover_packets_sent":0,"packets_sent":0,"packets_received":0,"cover_packets_received":0,"drops":{},"outbox":0}"#.utf8))
        #expect(TextFormat.network(none).contains("none verified yet"))
    }
}
