import SecIRCCore
import SecIRCCrypto
import Testing

/// Fixed-seed invites for the tests below.
enum InviteFixture {
    static let now = UnixTime(seconds: 1_800_000_000)
    static let expiry: UInt64 = 1_800_086_400

    static func keys(_ seed: String) -> (identity: SessionSetup.Identity, prekeys: SessionSetup.Prekeys) {
        var rng = SeededRandom(seed: seed)
        let identity = SessionSetup.Identity(using: &rng)
        let prekeys = SessionSetup.Prekeys(signedPrekeyID: 7, pqPrekeyID: 9, using: &rng)
        return (identity, prekeys)
    }

    static func mailboxes(_ count: Int, seed: String = "mailboxes") -> [MailboxAddress] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            MailboxAddress(relayID: ID(rawValue: try! Bytes32(rng.bytes(32))), mailboxID: try! Bytes32(rng.bytes(32)))
        }
    }

    static func invite(_ seed: String = "invite bob", mailboxCount: Int = 2, name: String? = "Bob") throws -> Invite {
        let (identity, prekeys) = keys(seed)
        return try SessionSetup.makeInvite(identity: identity, prekeys: prekeys, mailboxes: mailboxes(mailboxCount),
                                           expiry: expiry, displayNameHint: name)
    }
}

@Suite("Invite")
struct InviteTests {
    @Test(arguments: [(1, nil as String?), (2, "Bob"), (4, String(repeating: "é", count: 32))])
    func roundTripThroughURI(_ mailboxCount: Int, _ name: String?) throws {
        let invite = try InviteFixture.invite(mailboxCount: mailboxCount, name: name)
        let uri = invite.uri
        #expect(uri.hasPrefix("secirc:"))
        #expect(uri.utf8.count <= Invite.maximumURILength)
        let parsed = try Invite.parse(uri: uri, now: InviteFixture.now)
        #expect(parsed == invite)
        #expect(parsed.mailboxes.count == mailboxCount)
        #expect(parsed.displayNameHint == name)
        #expect(parsed.expiry == InviteFixture.expiry)
        let (identity, prekeys) = InviteFixture.keys("invite bob")
        #expect(parsed.identityKey == identity.signing.publicKey)
        #expect(parsed.identityAgreementKey == identity.agreement.publicKey)
        #expect(parsed.signedPrekey == prekeys.signedPrekey.publicKey)
        #expect(parsed.pqPrekey == prekeys.pqPrekey.publicKey)
        #expect(parsed.signedPrekeyID == 7 && parsed.pqPrekeyID == 9)
    }

    @Test func largestInviteFitsTheURILimit() throws {
        let invite = try InviteFixture.invite(mailboxCount: 4, name: String(repeating: "x", count: 64))
        #expect(invite.uri.utf8.count <= Invite.maximumURILength)
        #expect(try Invite.parse(uri: invite.uri, now: InviteFixture.now) == invite)
    }

    @Test func schemeIsCaseInsensitive() throws {
        let invite = try InviteFixture.invite()
        let upper = "SECIRC:" + invite.uri.dropFirst(Invite.scheme.count)
        #expect(try Invite.parse(uri: upper, now: InviteFixture.now) == invite)
    }

    @Test(arguments: [0, 5])
    func mailboxCountOutOfRangeRefusedWhenMaking(_ count: Int) {
        #expect(throws: InviteError.self) { try InviteFixture.invite(mailboxCount: count) }
    }

    @Test(arguments: ["", String(repeating: "x", count: 65), String(repeating: "é", count: 33)])
    func badDisplayNameRefusedWhenMaking(_ name: String) {
        #expect(throws: InviteError.self) { try InviteFixture.invite(name: name) }
    }

    @Test func everyPayloadBitFlipRejected() throws {
        let invite = try InviteFixture.invite()
        let payload = invite.body + invite.signature.bytes
        for bit in 0..<(payload.count * 8) {
            let uri = Invite.scheme + Base64URL.encode(LinkTestSupport.flippingBit(bit, of: payload))
            #expect(throws: InviteError.self, "bit \(bit)") { try Invite.parse(uri: uri, now: InviteFixture.now) }
        }
    }

    @Test func everyURITextBitFlipRejected() throws {
        let invite = try InviteFixture.invite()
        let text = Array(invite.uri.utf8)
        for bit in (Invite.scheme.count * 8)..<(text.count * 8) {
            let uri = String(decoding: LinkTestSupport.flippingBit(bit, of: text), as: UTF8.self)
            #expect(throws: InviteError.self, "bit \(bit)") { try Invite.parse(uri: uri, now: InviteFixture.now) }
        }
    }

    @Test func expiredRejectedWithTheExpiry() throws {
        let invite = try InviteFixture.invite()
        #expect(throws: InviteError.expired(at: InviteFixture.expiry)) {
            try Invite.parse(uri: invite.uri, now: UnixTime(seconds: Int64(InviteFixture.expiry)))
        }
        #expect(throws: InviteError.expired(at: InviteFixture.expiry)) {
            try Invite.parse(uri: invite.uri, now: UnixTime(seconds: Int64(InviteFixture.expiry) + 1))
        }
        #expect(try Invite.parse(uri: invite.uri, now: UnixTime(seconds: Int64(InviteFixture.expiry) - 1)) == invite)
    }

    @Test func errorsComeInTheDocumentedOrder() throws {
        let invite = try InviteFixture.invite()
        let payload = invite.body + invite.signature.bytes
        let now = InviteFixture.now
        #expect(throws: InviteError.notSecircURI) { try Invite.parse(uri: "https://example.org", now: now) }
        #expect(throws: InviteError.notSecircURI) { try Invite.parse(uri: "", now: now) }
        let long = "secirc:" + String(repeating: "A", count: 5000)
        #expect(throws: InviteError.tooLong(length: long.utf8.count)) { try Invite.parse(uri: long, now: now) }
        #expect(throws: InviteError.badEncoding) { try Invite.parse(uri: invite.uri + "=", now: now) }
        #expect(throws: InviteError.badEncoding) { try Invite.parse(uri: "secirc:ab+/", now: now) }
        #expect(throws: InviteError.truncated) { try Invite.parse(uri: "secirc:", now: now) }
        // Truncated body with a valid-length signature still fails structurally first.
        let short = Array(invite.body.dropLast(1)) + invite.signature.bytes
        #expect(throws: InviteError.truncated) { try Invite.parse(uri: "secirc:" + Base64URL.encode(short), now: now) }
        let long1 = invite.body + [0] + invite.signature.bytes
        #expect(throws: InviteError.trailingBytes(count: 1)) { try Invite.parse(uri: "secirc:" + Base64URL.encode(long1), now: now) }
        // A bad signature wins over expiry.
        var forged = payload
        forged[forged.count - 1] ^= 1
        #expect(throws: InviteError.badSignature) {
            try Invite.parse(uri: "secirc:" + Base64URL.encode(forged), now: UnixTime(seconds: 4_000_000_000))
        }
    }

    @Test func unsupportedVersionReportedAfterSignatureAndExpiry() throws {
        // A correctly signed body of a future version, with the fixed header in place.
        let (identity, _) = InviteFixture.keys("future")
        var w = [UInt8(2)] + identity.signing.publicKey.bytes
        withUnsafeBytes(of: InviteFixture.expiry.bigEndian) { w += $0 }
        w += [1, 2, 3]
        let signature = identity.signing.sign(Invite.signatureContext + w)
        let uri = "secirc:" + Base64URL.encode(w + signature.bytes)
        #expect(throws: InviteError.unsupportedVersion(2)) { try Invite.parse(uri: uri, now: InviteFixture.now) }
        #expect(throws: InviteError.expired(at: InviteFixture.expiry)) {
            try Invite.parse(uri: uri, now: UnixTime(seconds: Int64(InviteFixture.expiry)))
        }
    }

    @Test func signedButInvalidFieldsRejected() throws {
        // Correctly signed v1 body with 0 mailboxes and an invalid ML-KEM key.
        let (identity, _) = InviteFixture.keys("fields")
        var body = [UInt8(1)] + identity.signing.publicKey.bytes
        withUnsafeBytes(of: InviteFixture.expiry.bigEndian) { body += $0 }
        body += identity.agreement.publicKey.bytes + [0, 0, 0, 1] + identity.agreement.publicKey.bytes + [0, 0, 0, 2]
        let keyBytes = InviteFixture.keys("fields2").prekeys.pqPrekey.publicKey.bytes
        let zeroMailboxes = body + keyBytes + [0] + [0]
        let badKey = body + [UInt8](repeating: 0xFF, count: 1184) + [1] + [UInt8](repeating: 0, count: 64) + [0]
        let badName = body + keyBytes + [1] + [UInt8](repeating: 0, count: 64) + [2, 0xC3, 0x28]
        for bytes in [zeroMailboxes, badKey, badName] {
            let uri = "secirc:" + Base64URL.encode(bytes + identity.signing.sign(Invite.signatureContext + bytes).bytes)
            #expect {
                try Invite.parse(uri: uri, now: InviteFixture.now)
            } throws: { error in
                if case .invalidField = error as? InviteError { return true }
                return false
            }
        }
    }

    @Test func malformedInputNeverTraps() throws {
        let invite = try InviteFixture.invite()
        let payload = invite.body + invite.signature.bytes
        var rng = SeededRandom(seed: "invite fuzz")
        for round in 0..<5000 {
            let uri: String
            switch round % 5 {
            case 0: // truncated payload
                uri = "secirc:" + Base64URL.encode(Array(payload.prefix(Int.random(in: 0..<payload.count, using: &rng))))
            case 1: // oversized payload
                uri = "secirc:" + Base64URL.encode(payload + rng.bytes(Int.random(in: 1...2000, using: &rng)))
            case 2: // random payload of a plausible length
                uri = "secirc:" + Base64URL.encode(rng.bytes(Int.random(in: 0...1800, using: &rng)))
            case 3: // random text after the scheme
                let text = rng.bytes(Int.random(in: 0...3000, using: &rng))
                uri = "secirc:" + String(decoding: text, as: UTF8.self)
            default: // a few random byte changes in a valid payload (a second change may undo
                // the first only at the same index with the same mask: vanishingly rare here)
                var bytes = payload
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                }
                uri = "secirc:" + Base64URL.encode(bytes)
            }
            #expect(throws: InviteError.self) { try Invite.parse(uri: uri, now: InviteFixture.now) }
        }
    }

    @Test func base64URLRoundTripAndStrictness() throws {
        var rng = SeededRandom(seed: "b64")
        for count in 0..<70 {
            let bytes = rng.bytes(count)
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("="))
            #expect(try Base64URL.decode(Array(text.utf8)) == bytes)
        }
        #expect(Base64URL.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
        #expect(throws: DecodeError.self) { try Base64URL.decode(Array("Zm9=".utf8)) }
        #expect(throws: DecodeError.self) { try Base64URL.decode(Array("Z".utf8)) }
        #expect(throws: DecodeError.self) { try Base64URL.decode(Array("Zh".utf8)) } // non-zero trailing bits
        #expect(throws: DecodeError.self) { try Base64URL.decode(Array("Zm 9".utf8)) }
    }
}
