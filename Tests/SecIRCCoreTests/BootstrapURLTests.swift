import Foundation
import SecIRCCrypto
import SecIRCCore
import Testing

/// Bootstrap URLs come from configuration files and from DNS TXT records anyone on the path may
/// forge: the parser is strict, bounded and never traps.
@Suite struct BootstrapURLTests {
    static let pin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" // SHA-256 of ""
    static let pinBytes: [UInt8] = [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ]

    @Test func pinnedHTTPS() throws {
        let url = try BootstrapURL("https://relay.example.org:6691/#spki=\(Self.pin)")
        #expect(url.scheme == .https)
        #expect(url.host == "relay.example.org")
        #expect(url.port == 6691)
        #expect(url.path == "")
        #expect(url.pin == Self.pinBytes)
        #expect(url.pinBase64 == Self.pin)
        // The fragment never goes on the wire; the fetcher gets it after the path.
        #expect(url.url("/v1/directory") == "https://relay.example.org:6691/v1/directory")
        #expect(url.pinnedURL("/v1/directory") == "https://relay.example.org:6691/v1/directory#spki=\(Self.pin)")
        #expect(try BootstrapURL(url.pinnedURL("/v1/directory")).pin == Self.pinBytes)
    }

    @Test(arguments: [
        ("http://127.0.0.1:6691", "http://127.0.0.1:6691/v1/directory"),
        ("http://127.0.0.1:6691/", "http://127.0.0.1:6691/v1/directory"),
        ("http://[::1]:6691/mirror/", "http://[::1]:6691/mirror/v1/directory"),
        ("https://relay-a.example", "https://relay-a.example/v1/directory"),
        ("http://relay_a:80/a.b~c-d", nil),
    ] as [(String, String?)])
    func plainForms(text: String, expected: String?) {
        let url = try? BootstrapURL(text)
        #expect(url?.url("/v1/directory") == expected)
        #expect(url?.pin == nil)
    }

    @Test(arguments: [
        "", "ftp://127.0.0.1/", "HTTP://127.0.0.1/", "http:/127.0.0.1", "http://", "http://:80",
        "http://user@127.0.0.1/", "http://127.0.0.1:0/", "http://127.0.0.1:65536/", "http://127.0.0.1:80x/",
        "http://127.0.0.1:/", "http://127.0.0.1/?q=1", "http://127.0.0.1/a b", "http://-a.example/", "http://a..b/",
        "http://[::1/", "http://[::1]x/", "http://[zz]/", "http://[]/",
        "http://127.0.0.1/#spki=\(pin)", // a pin needs https
        "https://127.0.0.1/#pin=\(pin)", "https://127.0.0.1/#spki=", "https://127.0.0.1/#spki=\(pin.dropLast())",
        "https://127.0.0.1/#spki=\(pin)A", "https://127.0.0.1/#spki=\(pin.dropLast())!",
        "https://127.0.0.1/#spki=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=", // base64url is not base64
        "https://127.0.0.1/#spki=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=", // non-zero trailing bits
        "https://127.0.0.1/#spki=\(pin)#spki=\(pin)", "http://127.0.0.1/\u{0}", "http://é.example/",
    ])
    func malformedIsRefused(text: String) {
        #expect(throws: DecodeError.self) { try BootstrapURL(text) }
    }

    @Test func oversizedIsRefused() {
        let long = "http://" + String(repeating: "a", count: 60) + "." + String(repeating: "b.", count: 240) + "example/"
        #expect(throws: DecodeError.self) { try BootstrapURL(long) }
        let longPath = "http://127.0.0.1/" + String(repeating: "p", count: BootstrapURL.maximumLength)
        #expect(throws: DecodeError.self) { try BootstrapURL(longPath) }
        let longLabel = "http://" + String(repeating: "a", count: 64) + ".example/"
        #expect(throws: DecodeError.self) { try BootstrapURL(longLabel) }
    }

    @Test func everyTruncationParsesOrThrows() {
        let text = "https://[2001:db8::1]:6691/mirror#spki=\(Self.pin)"
        #expect((try? BootstrapURL(text)) != nil)
        for end in 0..<text.count {
            _ = try? BootstrapURL(String(text.prefix(end)))
        }
    }

    @Test func randomInputNeverTraps() {
        let seed = ProcessInfo.processInfo.environment["SECIRC_TEST_SEED"] ?? String(UInt64.random(in: 0...UInt64.max))
        print("BootstrapURLTests: random input seed \(seed) (rerun with SECIRC_TEST_SEED=\(seed))")
        var generator = SeededRandom(seed: seed)
        let alphabet = Array("htps:/[]#=+.-_~@?%0123456789abcdefABCDEF:spki \u{0}é")
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...80, using: &generator)
            var text = ["http://", "https://", ""].randomElement(using: &generator)!
            text += String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            if let url = try? BootstrapURL(text) {
                // Whatever parses, re-parses to the same thing from its wire form and pin.
                #expect((try? BootstrapURL(url.pinnedURL(""))).map { $0.pin == url.pin && $0.host == url.host } == true)
            }
        }
    }

    @Test func base64MatchesTheStandard() {
        #expect(BootstrapURL.base64([]) == "")
        #expect(BootstrapURL.base64(Array("f".utf8)) == "Zg==")
        #expect(BootstrapURL.base64(Array("fo".utf8)) == "Zm8=")
        #expect(BootstrapURL.base64(Array("foo".utf8)) == "Zm9v")
        #expect(BootstrapURL.base64(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(BootstrapURL.base64(Self.pinBytes) == Self.pin)
    }
}
