/// `GET /v1/network`.
struct NetworkStatus: Decodable {
    struct Directory: Decodable {
        var serial: Int64
        var validAfter: Int64?
        var validUntil: Int64?
        var ageSeconds: Int64?
        var relays: Int?

        enum CodingKeys: String, CodingKey {
            case serial, relays
            case validAfter = "valid_after"
            case validUntil = "valid_until"
            case ageSeconds = "age_seconds"
        }
    }

    struct Mailbox: Decodable {
        var relayID: String
        var mailboxID: String

        enum CodingKeys: String, CodingKey {
            case relayID = "relay_id"
            case mailboxID = "mailbox_id"
        }
    }

    struct Relay: Decodable {
        var id: String
        var udp: String?
        var linked: Bool?
    }

    var directory: Directory?
    var mailboxes: [Mailbox]?
    var relays: [Relay]?
    var pathLength: Int?
    var coverTraffic: String?
    var coverPacketsSent: Int64?
    var packetsSent: Int64?
    var packetsReceived: Int64?
    var outbox: Int64?

    enum CodingKeys: String, CodingKey {
        case directory, mailboxes, relays, outbox
        case pathLength = "path_length"
        case coverTraffic = "cover_traffic"
        case coverPacketsSent = "cover_packets_sent"
        case packetsSent = "packets_sent"
        case packetsReceived = "packets_received"
    }
}

/// `GET /v1/identity`.
struct Identity: Decodable {
    var id: String
    var identityKey: String?

    enum CodingKeys: String, CodingKey {
        case id
        case identityKey = "identity_key"
    }
}

/// `GET /v1/invite`.
struct InviteResponse: Decodable {
    var uri: String
    var expiresMilliseconds: Int64?

    enum CodingKeys: String, CodingKey {
        case uri
        case expiresMilliseconds = "expires_ms"
    }
}
