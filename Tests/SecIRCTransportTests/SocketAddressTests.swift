import SecIRCTransport
import Testing

@Suite struct SocketAddressTests {
    @Test(arguments: [
        ("127.0.0.1", UInt16(1), "127.0.0.1:1"),
        ("0.0.0.0", 0, "0.0.0.0:0"),
        ("255.255.255.255", 65535, "255.255.255.255:65535"),
        ("::1", 5, "[::1]:5"),
        ("[::1]", 5, "[::1]:5"),
        ("::", 443, "[::]:443"),
        ("2001:DB8::0:1", 9000, "[2001:db8::1]:9000"),
        ("fe80::1%1", 7, "[fe80::1%1]:7"),
        ("::ffff:192.0.2.7", 80, "192.0.2.7:80"),
        ("localhost", 6667, "127.0.0.1:6667"),
    ])
    func parsesGoodInput(host: String, port: UInt16, description: String) throws {
        let address = try SocketAddress(host: host, port: port)
        #expect(address.description == description)
        #expect(address.port == port)
        #expect(try SocketAddress(parsing: address.description) == address, "description round trip")
        #expect(try SocketAddress(host: address.host, port: address.port) == address, "host round trip")
    }

    @Test(arguments: [
        "", "[]", "1.2.3", "256.1.1.1", "1.2.3.4.5", "01.2.3.4", "1.2.3.4:5", "::g", "1:2:3:4:5:6:7:8:9",
        "[::1", "::1]", " 1.2.3.4", "1.2.3.4 ", "-bad-", "a..b", "under_score", "bad host", "é.example",
    ])
    func rejectsBadHosts(host: String) {
        #expect {
            try SocketAddress(host: host, port: 1)
        } throws: { error in
            if case TransportError.invalidAddress = error { true } else { false }
        }
    }

    @Test(arguments: ["1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+1", "::1:5", "[::1]5", "[::1]:", ":5", "[::1]:123456"])
    func rejectsBadText(text: String) {
        #expect {
            try SocketAddress(parsing: text)
        } throws: { error in
            if case TransportError.invalidAddress = error { true } else { false }
        }
    }

    /// `numeric:` never resolves: a name is an error at once, whatever DNS would say.
    @Test(arguments: ["localhost:5", "relay.example:6690", "a-b.c:1", "1.2.3.4", "[::1]:", "1.2.3.4.5:1"])
    func numericRefusesNamesAndBadText(text: String) {
        #expect {
            try SocketAddress(numeric: text)
        } throws: { error in
            if case TransportError.invalidAddress = error { true } else { false }
        }
    }

    @Test(arguments: ["127.0.0.1:6690", "[::1]:5", "[2001:db8::1]:65535", "0.0.0.0:1"])
    func numericTakesAddresses(text: String) throws {
        let address = try SocketAddress(numeric: text)
        #expect(address == (try SocketAddress(parsing: text)))
        #expect(address.description == text)
    }

    @Test func bytesAreFamilyAddressAndPort() throws {
        #expect(try SocketAddress(host: "1.2.3.4", port: 0x0102).bytes == [4, 1, 2, 3, 4, 1, 2])
        #expect(try SocketAddress(host: "::1", port: 0xFFFE).bytes == [6] + [UInt8](repeating: 0, count: 15) + [1, 0xFF, 0xFE])
        let a = try SocketAddress(host: "10.0.0.1", port: 1000)
        let b = try SocketAddress(host: "10.0.0.1", port: 1001)
        #expect(a.bytes != b.bytes)
        #expect(a != b)
        #expect(try SocketAddress(host: "::ffff:10.0.0.1", port: 1000).bytes == a.bytes, "IPv4-mapped is IPv4")
    }

    @Test func equalAddressesHashEqually() throws {
        let set: Set<SocketAddress> = [
            try SocketAddress(host: "127.0.0.1", port: 9),
            try SocketAddress(parsing: "127.0.0.1:9"),
            try SocketAddress(host: "::ffff:127.0.0.1", port: 9),
            try SocketAddress(host: "::1", port: 9),
            try SocketAddress(host: "[::1]", port: 9),
        ]
        #expect(set.count == 2)
    }

    @Test func errorsDescribeThemselves() {
        #expect(TransportError.closed.description == "the transport is closed")
        #expect(TransportError.datagramTooLarge(70000).description == "a 70000-byte datagram is too large for UDP")
        #expect(TransportError.system(call: "bind", errno: 98, message: "Address in use").description
            == "bind failed: Address in use (errno 98)")
    }
}
