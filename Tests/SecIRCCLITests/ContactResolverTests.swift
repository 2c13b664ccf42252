import SecIRCAPI
@testable import SecIRCCLI
import Testing

/// A <contact> argument: a name, a full id, or a unique id prefix.
@Suite struct ContactResolverTests {
    static func contact(_ id: String, _ name: String) -> Contact {
        Contact(id: id, name: name, identityKey: String(repeating: "0", count: 64), addedMilliseconds: 0, session: "established")
    }

    static let bob = contact("3fa2" + String(repeating: "1", count: 60), "bob")
    static let bill = contact("3f99" + String(repeating: "2", count: 60), "bill")
    static let cafe = contact("cafe" + String(repeating: "3", count: 60), "Café")
    static let all = [bob, bill, cafe]

    @Test(arguments: [("bob", bob), ("bill", bill), ("Café", cafe), ("café", cafe), ("BOB", bob)])
    func byName(_ query: String, _ expected: Contact) throws {
        #expect(try ContactResolver.resolve(query, in: Self.all) == expected)
    }

    @Test func byFullIDAndUniquePrefix() throws {
        #expect(try ContactResolver.resolve(Self.bob.id, in: Self.all) == Self.bob)
        #expect(try ContactResolver.resolve(Self.bob.id.uppercased(), in: Self.all) == Self.bob)
        #expect(try ContactResolver.resolve("3fa", in: Self.all) == Self.bob)
        #expect(try ContactResolver.resolve("3f9", in: Self.all) == Self.bill)
        #expect(try ContactResolver.resolve("ca", in: Self.all) == Self.cafe)
    }

    @Test func ambiguousPrefixIsRefusedWithTheCandidates() {
        #expect(throws: ContactResolutionError.ambiguous("3f", [Self.bob, Self.bill])) {
            try ContactResolver.resolve("3f", in: Self.all)
        }
        let message = ContactResolutionError.ambiguous("3f", [Self.bob, Self.bill]).description
        #expect(message.contains("bob (3fa2") && message.contains("bill (3f99"))
    }

    @Test func anExactNameWinsOverAnIDPrefix() throws {
        let named = Self.contact("0000" + String(repeating: "4", count: 60), "3fa2")
        #expect(try ContactResolver.resolve("3fa2", in: Self.all + [named]) == named)
    }

    @Test func twoContactsWithOneNameAreAmbiguous() {
        let other = Self.contact("abcd" + String(repeating: "5", count: 60), "bob")
        #expect(throws: ContactResolutionError.ambiguous("bob", [Self.bob, other])) {
            try ContactResolver.resolve("bob", in: Self.all + [other])
        }
    }

    @Test func unknownAndEmpty() {
        #expect(throws: ContactResolutionError.notFound("carol")) { try ContactResolver.resolve("carol", in: Self.all) }
        #expect(throws: ContactResolutionError.notFound("3fa3")) { try ContactResolver.resolve("3fa3", in: Self.all) }
        #expect(throws: ContactResolutionError.empty) { try ContactResolver.resolve("", in: Self.all) }
        #expect(throws: ContactResolutionError.notFound("bob")) { try ContactResolver.resolve("bob", in: []) }
    }
}
