import SecIRCConfig
import SecIRCCrypto
import Testing

@Suite struct ClientConfigTests {
    @Test func exampleFileIsTheDefaults() throws {
        #expect(try ClientConfig.load(path: Fixtures.repoFile("config/client.yaml"), environment: [:]) == ClientConfig())
    }

    @Test func apiMustStayOnLoopback() {
        #expect {
            try ClientConfig.parse(yaml: "api:\n  listen: 0.0.0.0:6692")
        } throws: { error in
            "\(error)" == "client.yaml: api.listen: \"0.0.0.0:6692\" is not a loopback address; the client API must stay on 127.0.0.1 or ::1"
        }
        #expect(throws: Never.self) { try ClientConfig.parse(yaml: "api:\n  listen: \"[::1]:7000\"") }
    }

    @Test func readsKeysAndOverrides() throws {
        let c = try ClientConfig.parse(
            yaml: "network:\n  path_length: 5\n  cover_traffic: off\n",
            environment: ["SECIRC_CLIENT_API_LISTEN": "127.0.0.1:9000"])
        #expect(c.network.pathLength == 5)
        #expect(c.network.coverProfile == .off)
        #expect(c.api.listen.port == 9000)
    }

    @Test func apiConnectionLimits() throws {
        let c = try ClientConfig.parse(yaml: "api: {max_connections: 40, max_connections_per_ip: 30, header_timeout_seconds: 3, max_event_streams: 10}")
        #expect(c.api.maxConnections == 40)
        #expect(c.api.maxConnectionsPerIP == 30)
        #expect(c.api.headerTimeoutSeconds == 3)
        #expect(c.api.maxEventStreams == 10)
        #expect {
            try ClientConfig.parse(yaml: "api:\n  max_connections_per_ip: 16\n  max_event_streams: 16")
        } throws: { error in
            "\(error)" == "client.yaml: api.max_event_streams: 16 leaves no connection for other calls (max_connections_per_ip 16, max_connections 256)"
        }
        #expect(throws: ConfigError.self) { try ClientConfig.parse(yaml: "api:\n  max_connections: 10\n  max_connections_per_ip: 10") }
    }

    @Test func contactRequestsAreAskedUnlessAutoAccepted() throws {
        #expect(ClientConfig().contacts.autoAccept == false && ClientConfig().contacts.maxPendingRequests == 32)
        let c = try ClientConfig.parse(yaml: "contacts: {auto_accept: true, max_pending_requests: 5}")
        #expect(c.contacts.autoAccept && c.contacts.maxPendingRequests == 5)
        let env = try ClientConfig.parse(yaml: "", environment: ["SECIRC_CLIENT_CONTACTS_AUTO_ACCEPT": "true"])
        #expect(env.contacts.autoAccept)
        for (yaml, key) in [("contacts:\n  auto_accept: sometimes", "contacts.auto_accept"),
                            ("contacts:\n  max_pending_requests: 0", "contacts.max_pending_requests"),
                            ("contacts:\n  auto_acept: true", "contacts.auto_acept")] {
            #expect {
                try ClientConfig.parse(yaml: yaml)
            } throws: { error in
                "\(error)".hasPrefix("client.yaml: \(key)")
            }
        }
    }

    @Test func pathLengthIsBounded() {
        #expect(throws: ConfigError.self) { try ClientConfig.parse(yaml: "network:\n  path_length: 6") }
    }

    @Test func bootstrapDNSAndPinnedURLs() throws {
        let pin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        let c = try ClientConfig.parse(yaml: """
            network:
              bootstrap_urls: ["https://[2001:db8::1]:6691/#spki=\(pin)"]
              bootstrap_dns: _secirc.example.org.
              dns_server: "127.0.0.1:53"
            """)
        #expect(c.network.bootstrapDNS == "_secirc.example.org.")
        #expect(c.network.dnsServer == HostPort(host: "127.0.0.1", port: 53))
        // DNS alone is enough; nothing at all is not.
        #expect(throws: Never.self) { try ClientConfig.parse(yaml: "network: {bootstrap_urls: [], bootstrap_dns: seed.example}") }
        #expect {
            try ClientConfig.parse(yaml: "network: {bootstrap_urls: []}")
        } throws: { error in
            "\(error)" == "client.yaml: network.bootstrap_urls: empty, and no bootstrap_dns: the directory could not be fetched from anywhere"
        }
        for bad in ["network: {bootstrap_urls: [\"http://a/?q\"]}", "network: {bootstrap_dns: \"-.example\"}",
                    "network: {bootstrap_dns: \"\(String(repeating: "a.", count: 130))org\"}", "network: {dns_server: \"host:53\"}",
                    "network: {dns_server: \"127.0.0.1:0\"}", "network: {bootstrap_urls: [\"http://a/#spki=\(pin)\"]}"] {
            #expect(throws: ConfigError.self, "\(bad)") { try ClientConfig.parse(yaml: bad) }
        }
    }
}

@Suite struct SecurityConfigTests {
    private static func key(_ seed: UInt8) throws -> SigningPublicKey {
        try SigningPrivateKey(seed: [UInt8](repeating: seed, count: 32)).publicKey
    }

    @Test func exampleFileIsTheDefaults() throws {
        let c = try SecurityConfig.load(path: Fixtures.repoFile("config/security.yaml"), environment: [:])
        #expect(c == SecurityConfig())
        #expect(c.firstRing.members.isEmpty)
    }

    @Test func readsMembersAndThreshold() throws {
        let (a, b, d) = (try Self.key(1), try Self.key(2), try Self.key(3))
        let yaml = """
            first_ring:
              members:
                - {public_key: \(a.rawValue.hex), udp: "10.0.0.1:6690", http: "http://10.0.0.1:6691"}
                - {public_key: \(b.rawValue.hex), udp: "10.0.0.2:6690", http: "http://10.0.0.2:6691"}
                - {public_key: \(d.rawValue.hex), udp: "10.0.0.3:6690", http: "http://10.0.0.3:6691"}
            """
        let c = try SecurityConfig.parse(yaml: yaml)
        #expect(c.firstRing.members.map(\.publicKey) == [a, b, d])
        #expect(c.firstRing.members[0].id == a.id)
        #expect(c.firstRing.threshold == nil)
        #expect(c.firstRing.effectiveThreshold(memberCount: 3) == 2)

        let explicit = try SecurityConfig.parse(yaml: yaml + "\n  threshold: 3\n  validity_seconds: 3600")
        #expect(explicit.firstRing.threshold == 3)
        #expect(c.firstRing.validitySeconds == 86_400 && explicit.firstRing.validitySeconds == 3_600)
    }

    @Test(arguments: [
        ("first_ring:\n  members:\n    - {public_key: zz, udp: \"a:1\", http: \"http://a\"}",
         "security.yaml: first_ring.members[0].public_key: \"zz\" is not a 64-hex-digit Ed25519 public key"),
        ("first_ring:\n  members:\n    - {udp: \"a:1\", http: \"http://a\"}",
         "security.yaml: first_ring.members[0].public_key: required"),
        ("first_ring:\n  members:\n    - {public_key: \(String(repeating: "ab", count: 32)), udp: \"a:1\", http: \"http://a\", colour: red}",
         "security.yaml: first_ring.members[0].colour: unknown key"),
        ("first_ring:\n  threshold: 2", "security.yaml: first_ring.threshold: 2 is outside 1...1 (the number of members)"),
        ("network:\n  mean_delay_ms: -1", "security.yaml: network.mean_delay_ms: -1 is outside 0...60000"),
        ("network:\n  relay_cover_rate_per_s: 1001", "security.yaml: network.relay_cover_rate_per_s: 1001.0 is outside 0.0...1000.0"),
        ("first_ring:\n  validity_seconds: 10", "security.yaml: first_ring.validity_seconds: 10 is outside 60...2592000"),
        ("admission:\n  max_relays_per_address: -1", "security.yaml: admission.max_relays_per_address: -1 is outside 0...10000"),
        ("admission:\n  max_relays_per_address: 5\n  max_relays_per_prefix: 4",
         "security.yaml: admission.max_relays_per_address: 5 is more than max_relays_per_prefix (4), which includes the address"),
        ("admission:\n  uploads_per_minute: 0", "security.yaml: admission.uploads_per_minute: 0 is outside 1...60000"),
        ("admission:\n  limit: 3", "security.yaml: admission.limit: unknown key"),
    ])
    func badValuesNameFileAndKeyPath(yaml: String, message: String) {
        do {
            _ = try SecurityConfig.parse(yaml: yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func readsTheRelayCoverRate() throws {
        #expect(try SecurityConfig.parse(yaml: "").network.relayCoverRatePerSecond == 0.5)
        #expect(try SecurityConfig.parse(yaml: "network: {relay_cover_rate_per_s: 0}").network.relayCoverRatePerSecond == 0)
        let fromEnvironment = try SecurityConfig.parse(yaml: "", environment: ["SECIRC_SECURITY_NETWORK_RELAY_COVER_RATE_PER_S": "2"])
        #expect(fromEnvironment.network.relayCoverRatePerSecond == 2)
    }

    @Test func readsAdmission() throws {
        let c = try SecurityConfig.parse(yaml: """
            admission: {mode: allowlist, max_relays_per_address: 0, max_relays_per_prefix: 0, new_relays_per_period: 1,
                        uploads_per_minute: 6, upload_burst: 2}
            """)
        #expect(c.admission == SecurityConfig.Admission(mode: .allowlist, maxRelaysPerAddress: 0, maxRelaysPerPrefix: 0,
                                                        newRelaysPerPeriod: 1, uploadsPerMinute: 6, uploadBurst: 2))
        #expect(throws: ConfigError.self) { try SecurityConfig.parse(yaml: "admission: {mode: closed}") }
        let fromEnvironment = try SecurityConfig.parse(yaml: "", environment: ["SECIRC_SECURITY_ADMISSION_MODE": "allowlist"])
        #expect(fromEnvironment.admission.mode == .allowlist)
    }

    @Test func minorityThresholdIsRefused() throws {
        let keys = try (1...4).map { try Self.key(UInt8($0)) }
        let members = keys.enumerated().map { i, k in
            "    - {public_key: \(k.rawValue.hex), udp: \"10.0.0.\(i):6690\", http: \"http://10.0.0.\(i):6691\"}"
        }.joined(separator: "\n")
        #expect {
            try SecurityConfig.parse(yaml: "first_ring:\n  threshold: 2\n  members:\n\(members)")
        } throws: { error in
            "\(error)".contains("first_ring.threshold: 2 is not a majority of 4 members")
        }
    }

    @Test func duplicateMemberIsRefused() throws {
        let k = try Self.key(9).rawValue.hex
        let yaml = """
            first_ring:
              members:
                - {public_key: \(k), udp: "10.0.0.1:6690", http: "http://10.0.0.1:6691"}
                - {public_key: \(k), udp: "10.0.0.2:6690", http: "http://10.0.0.2:6691"}
            """
        #expect {
            try SecurityConfig.parse(yaml: yaml)
        } throws: { error in
            "\(error)".contains("first_ring.members: entry [1] repeats public key")
        }
    }
}

@Suite struct HostPortTests {
    @Test(arguments: ["0.0.0.0:6690", "127.0.0.1:0", "[::1]:6690", "relay-1.example.net:443", "localhost:1"])
    func parsesAndPrintsBack(text: String) throws {
        #expect(try HostPort(parsing: text).description == text)
    }

    @Test(arguments: ["", "abc", ":80", "host:", "host:65536", "::1:80", "[::1]80", "a b:1", "[x]:1", "host:-1"])
    func rejects(text: String) {
        #expect(throws: ConfigValueError.self) { try HostPort(parsing: text) }
    }

    @Test func loopbackAndWildcard() throws {
        #expect(try HostPort(parsing: "127.0.0.2:1").isLoopback)
        #expect(try HostPort(parsing: "[::1]:1").isLoopback)
        #expect(try !HostPort(parsing: "10.0.0.1:1").isLoopback)
        #expect(try HostPort(parsing: "0.0.0.0:1").isWildcard)
    }
}
