import SecIRCCore
import SecIRCCrypto
import Testing

@Suite("Messaging: ContactCard")
struct MessagingContactCardTests {
    @Test(arguments: [(1, nil as String?), (2, "Alice"), (4, String(repeating: "é", count: 32))])
    func roundTrips(_ mailboxCount: Int, _ name: String?) throws {
        let owner = MessagingFixture.identity("card alice")
        let card = try MessagingFixture.card(mailboxCount: mailboxCount, name: name)
        #expect(card.identityKey == owner.signing.publicKey)
        #expect(card.agreementKey == owner.agreement.publicKey)
        #expect(card.encoded.count == ContactCard.minimumLength + (mailboxCount - 1) * 64 + (name?.utf8.count ?? 0))
        let decoded = try ContactCard.decode(card.encoded)
        #expect(decoded == card)
        #expect(decoded.mailboxes == InviteFixture.mailboxes(mailboxCount))
        #expect(decoded.displayName == name)
        #expect(decoded.created == 1_799_999_000)
        #expect(ContactCard.maximumLength == 459)
    }

    @Test func signatureCoversContextAndBody() throws {
        let card = try MessagingFixture.card()
        let body = Array(card.encoded.dropLast(64))
        let signature = try Signature(bytes: Array(card.encoded.suffix(64)))
        try card.identityKey.verify(signature, for: Array("secIRC contact card v1".utf8) + body)
    }

    @Test func makingRefusesBadFields() {
        let owner = MessagingFixture.identity("card alice")
        func make(_ count: Int, _ name: String?) throws(ContactCardError) {
            _ = try ContactCard(signingWith: owner.signing, agreementKey: owner.agreement.publicKey, created: 0,
                                mailboxes: InviteFixture.mailboxes(count), displayName: name)
        }
        #expect(throws: ContactCardError.self) { try make(0, nil) }
        #expect(throws: ContactCardError.self) { try make(5, nil) }
        #expect(throws: ContactCardError.self) { try make(1, "") }
        #expect(throws: ContactCardError.self) { try make(1, String(repeating: "a", count: 65)) }
        #expect(throws: Never.self) { try make(1, String(repeating: "a", count: 64)) }
    }

    @Test func everyBitFlipIsRejected() throws {
        let wire = try MessagingFixture.card().encoded
        for bit in 0..<(wire.count * 8) {
            var flipped = wire
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(throws: ContactCardError.self, "bit \(bit)") { try ContactCard.decode(flipped) }
        }
    }

    @Test func truncatedAtEveryLength() throws {
        let wire = try MessagingFixture.card().encoded
        for length in 0..<wire.count {
            #expect(throws: ContactCardError.truncated) { try ContactCard.decode(Array(wire[..<length])) }
        }
    }

    @Test func trailingBytesAreRefused() throws {
        let wire = try MessagingFixture.card().encoded
        for extra in [1, 2, 64, 100] {
            #expect(throws: ContactCardError.trailingBytes(count: extra)) {
                try ContactCard.decode(wire + [UInt8](repeating: 0, count: extra))
            }
        }
    }

    @Test func forgedCardIsRejected() throws {
        // Mallory re-signs Alice's fields with her own key but keeps Alice's identity key.
        let card = try MessagingFixture.card()
        let mallory = MessagingFixture.identity("mallory")
        let body = Array(card.encoded.dropLast(64))
        let forged = body + mallory.signing.sign(ContactCard.signatureContext + body).bytes
        #expect(throws: ContactCardError.badSignature) { try ContactCard.decode(forged) }
    }

    /// A correctly signed body with the given fields, to reach the checks after the signature.
    static func signed(version: UInt8 = 1, mailboxCount: Int, name: [UInt8], tail: [UInt8] = []) -> [UInt8] {
        let owner = MessagingFixture.identity("card alice")
        var w = ByteWriter()
        w.write(version)
        w.write(owner.signing.publicKey.rawValue)
        w.write(owner.agreement.publicKey.rawValue)
        w.write(UInt64(1))
        w.write(UInt8(mailboxCount))
        w.write(InviteFixture.mailboxes(mailboxCount).flatMap { $0.relayID.rawValue.bytes + $0.mailboxID.bytes })
        w.write(UInt8(name.count))
        w.write(name)
        w.write(tail)
        return w.bytes + owner.signing.sign(ContactCard.signatureContext + w.bytes).bytes
    }

    @Test func signedButInvalidFieldsAreRejected() {
        #expect(throws: ContactCardError.self) { try ContactCard.decode(Self.signed(mailboxCount: 0, name: [])) }
        #expect(throws: ContactCardError.self) { try ContactCard.decode(Self.signed(mailboxCount: 5, name: [])) }
        #expect(throws: ContactCardError.invalidField("display name is not UTF-8")) {
            try ContactCard.decode(Self.signed(mailboxCount: 1, name: [0xC3, 0x28]))
        }
        #expect(throws: ContactCardError.self) {
            try ContactCard.decode(Self.signed(mailboxCount: 1, name: [UInt8](repeating: 0x61, count: 65)))
        }
        #expect(throws: Never.self) { try ContactCard.decode(Self.signed(mailboxCount: 1, name: [0x61])) }
    }

    @Test func otherVersionsAreRefusedAfterTheSignature() {
        let newer = Self.signed(version: 2, mailboxCount: 1, name: [], tail: [1, 2, 3])
        #expect(throws: ContactCardError.unsupportedVersion(2)) { try ContactCard.decode(newer) }
        var unsigned = newer
        unsigned[unsigned.count - 1] ^= 1
        #expect(throws: ContactCardError.badSignature) { try ContactCard.decode(unsigned) }
    }
}
