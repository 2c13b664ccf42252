import Foundation
import SecIRCAPI
@testable import SecIRCClient
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCNode
import Testing

/// The exact bytes of the client API's answers: sorted keys, unescaped slashes, numbers as
/// numbers, and `null` (not an absent key) where openapi/client.yaml says a value may be null.
@Suite struct ClientAPIJSONTests {
    private static func text(_ response: HTTPResponse) -> String { String(decoding: response.bytes, as: UTF8.self) }

    private static func contactJSON(_ object: [String: Any]) -> String {
        #"{"added_ms":\#(object["added_ms"] as? Int64 ?? -1),"id":"\#(object["id"] as? String ?? "")","identity_key":"\#(object["identity_key"] as? String ?? "")","name":"\#(object["name"] as? String ?? "")","session":"\#(object["session"] as? String ?? "")","state":"\#(object["state"] as? String ?? "")"}"#
    }

    private static func messageJSON(_ object: [String: Any]) -> String {
        #"{"attempts":\#(object["attempts"] as? Int ?? -1),"contact":"\#(object["contact"] as? String ?? "")","cursor":\#(object["cursor"] as? Int64 ?? -1),"direction":"\#(object["direction"] as? String ?? "")","id":"\#(object["id"] as? String ?? "")","kind":"\#(object["kind"] as? String ?? "")","state":"\#(object["state"] as? String ?? "")","text":"\#(object["text"] as? String ?? "")","timestamp_ms":\#(object["timestamp_ms"] as? Int64 ?? -1)}"#
    }

    @Test func answersHaveTheirExactForm() throws {
        let f = try ClientRoutesFixture()
        let carol = f.user.messenger.identity
        #expect(Self.text(f.handle(.get, "/v1/identity"))
            == #"{"id":"\#(carol.id.hex)","identity_key":"\#(carol.signingKey.rawValue.hex)"}"#)

        let mailboxes = f.user.messenger.mailboxes.map { #"{"mailbox_id":"\#($0.address.mailboxID.hex)","relay_id":"\#($0.address.relayID.hex)"}"# }
            .joined(separator: ",")
        let invite = f.handle(.get, "/v1/invite")
        let inviteObject = invite.object
        #expect(Self.text(invite)
            == #"{"expires_ms":\#(inviteObject["expires_ms"] as? Int64 ?? -1),"mailboxes":[\#(mailboxes)],"uri":"\#(inviteObject["uri"] as? String ?? "")"}"#)

        let dave = try User("dave", relays: FakeRelays.make(3))
        let added = f.handle(.post, "/v1/contacts", body: #"{"invite":"\#(try dave.invite(now: .t0).uri)"}"#)
        let contact = Self.contactJSON(added.object)
        #expect(Self.text(added) == contact)
        #expect(added.object["session"] as? String == "initiated" && added.object["added_ms"] as? Int64 == 1_800_000_000_000)
        #expect(Self.text(f.handle(.get, "/v1/contacts")) == #"{"contacts":[\#(contact)]}"#)

        let sent = f.handle(.post, "/v1/conversations/\(dave.id.hex)/messages", body: #"{"text":"a/b \"c\""}"#)
        let message = Self.messageJSON(sent.object).replacingOccurrences(of: #"a/b "c""#, with: #"a/b \"c\""#)
        #expect(Self.text(sent) == message)
        #expect(message.contains(#""text":"a/b \"c\"""#) && message.contains(#""attempts":0,"#))
        let id = try #require(sent.object["id"] as? String)
        #expect(Self.text(f.handle(.get, "/v1/messages/\(id)")) == message)
        #expect(Self.text(f.handle(.get, "/v1/conversations/\(dave.id.hex)/messages")) == #"{"messages":[\#(message)],"next_before":null}"#)

        let erin = try User("erin", relays: FakeRelays.make(3))
        let erinContact = Self.contactJSON(f.handle(.post, "/v1/contacts", body: #"{"invite":"\#(try erin.invite(now: .t0).uri)"}"#).object)
        let conversations = Self.text(f.handle(.get, "/v1/conversations"))
        #expect(conversations.hasPrefix(#"{"conversations":[{"contact":"#))
        #expect(conversations.contains(#"{"contact":\#(contact),"count":1,"last":\#(message)}"#))
        #expect(conversations.contains(#"{"contact":\#(erinContact),"count":0,"last":null}"#))

        let outbox = try f.user.messenger.outboxCount()
        #expect(Self.text(f.handle(.get, "/v1/network")) == #"{"cover_packets_received":0,"cover_packets_sent":0,"cover_traffic":"balanced","directory":null,"drops":{},"mailboxes":[\#(mailboxes)],"outbox":\#(outbox),"packets_received":0,"packets_sent":0,"path_length":3,"relays":[]}"#)
        #expect(Self.text(f.handle(.get, "/healthz", token: nil)) == #"{"status":"ok"}"#)
    }

    @Test func networkWithADirectoryAndRelays() throws {
        let f = try ClientRoutesFixture()
        let relays = try FakeRelays.make(2)
        let directory = RelayDirectory(serial: 7, previous: .zero, validAfter: 1_799_999_990, validUntil: 1_800_003_600,
                                       network: NetworkParameters(coverRate: 2, meanDelayMs: 50), roster: Roster(members: []),
                                       relays: [])
        var snapshot = ClientNetworkStatus()
        snapshot.directory = directory
        snapshot.descriptors = relays
        snapshot.fetchedAt = UnixTime(seconds: 1_799_999_995)
        snapshot.channel = .dns
        snapshot.linked = [relays[1].id]
        snapshot.packetsSent = 3
        snapshot.dropped = ["fetch_failed": 2]
        snapshot.roster = Roster(members: [], threshold: 1, epoch: 2) // followed two roster changes
        f.network.publish(snapshot)
        let text = Self.text(f.handle(.get, "/v1/network"))
        #expect(text.contains(#""directory":{"age_seconds":5,"channel":"dns","fetched_at":1799999995,"relays":2,"ring_members":0,"ring_threshold":1,"roster_epoch":2,"serial":7,"valid_after":1799999990,"valid_until":1800003600},"drops":{"fetch_failed":2},"#))
        #expect(text.contains(#""relays":[{"id":"\#(relays[0].id.hex)","linked":false,"udp":"127.0.0.1:7000"},{"id":"\#(relays[1].id.hex)","linked":true,"udp":"127.0.0.1:7001"}]}"#))
        #expect(text.contains(#""packets_sent":3,"#))
    }

    /// An event's data is the JSON the routes answer with for the same message or contact.
    @Test func eventsCarryTheRoutesJSON() throws {
        let f = try ClientRoutesFixture()
        let dave = try User("dave", relays: FakeRelays.make(3))
        _ = f.handle(.post, "/v1/contacts", body: #"{"invite":"\#(try dave.invite(now: .t0).uri)"}"#)
        let id = try #require(f.handle(.post, "/v1/conversations/\(dave.id.hex)/messages", body: #"{"text":"hi"}"#).object["id"] as? String)
        let message = try #require(try f.user.messenger.message(id: MessageID(hex: id)))
        let contact = try #require(try f.user.messenger.contact(id: dave.id))
        #expect(APIEvent(ClientEvent.message(message)).serverSentEvent
            == ServerSentEvent(event: "message", data: Self.text(f.handle(.get, "/v1/messages/\(id)"))))
        #expect(APIEvent(ClientEvent.contact(contact)).serverSentEvent
            == ServerSentEvent(event: "contact", data: Self.text(f.handle(.get, "/v1/contacts/\(dave.id.hex)"))))
        #expect(APIEvent(ClientEvent.receipt(id: message.id, contact: dave.id)).serverSentEvent
            == ServerSentEvent(event: "receipt", data: #"{"contact":"\#(dave.id.hex)","id":"\#(id)","state":"delivered"}"#))
    }
}
