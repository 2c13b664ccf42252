import SecIRCCore
import SecIRCCrypto
import Testing

/// Fixed-seed values shared by the Messaging tests.
enum MessagingFixture {
    static let now = UnixTime(seconds: 1_800_000_000)

    static func messageID(_ seed: String) -> MessageID {
        var rng = SeededRandom(seed: seed)
        return MessageID(using: &rng)
    }

    /// A signing identity and its agreement key, from `seed`.
    static func identity(_ seed: String) -> SessionSetup.Identity {
        var rng = SeededRandom(seed: seed)
        return SessionSetup.Identity(using: &rng)
    }

    static func card(_ seed: String = "card alice", mailboxCount: Int = 2, name: String? = "Alice") throws -> ContactCard {
        let owner = identity(seed)
        return try ContactCard(signingWith: owner.signing, agreementKey: owner.agreement.publicKey,
                               created: 1_799_999_000, mailboxes: InviteFixture.mailboxes(mailboxCount), displayName: name)
    }

    /// `count` bytes from a seeded stream.
    static func bytes(_ count: Int, seed: String) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        return rng.bytes(count)
    }
}

/// Expects `body` to throw a `DecodeError` whose case is `incomplete`.
func expectIncomplete<T>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(DecodeError) -> T) {
    do {
        _ = try body()
        Issue.record("decoded, expected incomplete", sourceLocation: sourceLocation)
    } catch {
        guard case .incomplete = error else {
            Issue.record("threw \(error), expected incomplete", sourceLocation: sourceLocation)
            return
        }
    }
}
