import Foundation
import SecIRCCrypto
import SecIRCConfig
import Testing

@Suite struct ServerConfigTests {
    @Test func emptyFileGivesDefaults() throws {
        let config = try ServerConfig.parse(yaml: "")
        #expect(config == ServerConfig())
        #expect(config.udp.listen == HostPort(host: "0.0.0.0", port: 6690))
        #expect(config.http.listen.port == 6691)
    }

    @Test func exampleFileIsTheDefaults() throws {
        let config = try ServerConfig.load(path: Fixtures.repoFile("config/server.yaml"), environment: [:])
        #expect(config == ServerConfig())
    }

    @Test func readsEveryKey() throws {
        let yaml = """
            relay: {name: r1, data_dir: /var/lib/secirc}
            udp: {listen: "[::1]:7000", advertise: "relay.example:7000", socket_buffer_bytes: 1048576, batch: 8, queue_packets: 100,
                  workers: 3}
            http: {listen: 127.0.0.1:7001, public_url: "https://relay.example:7001", tls: files, cert_file: c.pem, key_file: k.pem,
                   max_body_bytes: 2048, threads: 4, max_connections: 500, max_connections_per_ip: 20, header_timeout_seconds: 2.5}
            mailbox: {ttl_seconds: 60, max_messages_per_queue: 5, max_messages_per_group: 7, max_mailboxes: 10, max_total_bytes: 1048576}
            keys: {rotation_seconds: 10, grace_seconds: 5}
            directory: {period_seconds: 2, bootstrap_urls: ["http://127.0.0.1:6691"]}
            log: {level: debug}
            """
        let c = try ServerConfig.parse(yaml: yaml)
        #expect(c.relay.name == "r1")
        #expect(c.relay.dataDirectory == "/var/lib/secirc")
        #expect(c.udp.listen == HostPort(host: "::1", port: 7000))
        #expect(c.udp.listen.description == "[::1]:7000")
        #expect(c.udp.advertise == HostPort(host: "relay.example", port: 7000))
        #expect(c.udp.batch == 8)
        #expect(c.udp.queuePackets == 100)
        #expect(c.udp.workers == 3)
        #expect(c.http.tls == .files)
        #expect(c.http.publicURL == "https://relay.example:7001")
        #expect(c.http.threads == 4)
        #expect(c.http.maxConnections == 500)
        #expect(c.http.maxConnectionsPerIP == 20)
        #expect(c.http.headerTimeoutSeconds == 2.5)
        #expect(c.mailbox.maxMessagesPerQueue == 5)
        #expect(c.mailbox.maxMessagesPerGroup == 7)
        #expect(ServerConfig().mailbox.maxMessagesPerGroup == 10_000)
        #expect(throws: ConfigError.self) { try ServerConfig.parse(yaml: "mailbox: {max_messages_per_group: 0}") }
        #expect(c.keys.rotationSeconds == 10)
        #expect(c.keys.graceSeconds == 5)
        #expect(c.directory.bootstrapURLs == ["http://127.0.0.1:6691"])
        #expect(c.directory.bootstrapDNS == "")
        #expect(c.directory.dnsServer == nil)
        #expect(c.logLevel == .debug)
    }

    /// Each bad input and the exact message an operator sees.
    @Test(arguments: [
        ("udp:\n  listen: \"abc\"", "server.yaml: udp.listen: \"abc\" is not host:port"),
        ("udp:\n  listen: 1.2.3.4:99999", "server.yaml: udp.listen: \"1.2.3.4:99999\" is not host:port"),
        ("udp:\n  lisen: 1", "server.yaml: udp.lisen: unknown key"),
        ("colour: blue", "server.yaml: colour: unknown key"),
        ("udp: 5", "server.yaml: udp: expected a mapping of keys, got a single value"),
        ("udp:\n  listen: [a, b]", "server.yaml: udp.listen: expected a single value, got a list"),
        ("udp:\n  batch: many", "server.yaml: udp.batch: \"many\" is not a whole number"),
        ("udp:\n  batch: 0", "server.yaml: udp.batch: 0 is outside 1...1024"),
        ("udp:\n  workers: 257", "server.yaml: udp.workers: 257 is outside 0...256"),
        ("udp:\n  workers: -1", "server.yaml: udp.workers: -1 is outside 0...256"),
        ("udp:\n  advertise: 0.0.0.0:6690", "server.yaml: udp.advertise: \"0.0.0.0:6690\" cannot be reached by others (wildcard host or port 0)"),
        ("http:\n  tls: maybe", "server.yaml: http.tls: \"maybe\" is not one of \"off\", \"self_signed\", \"files\""),
        ("http:\n  tls: files", "server.yaml: http.cert_file: required when tls is \"files\""),
        ("http:\n  public_url: ftp://x", "server.yaml: http.public_url: \"ftp://x\" is not an http:// or https:// URL"),
        ("http:\n  max_connections: 64\n  max_connections_per_ip: 64",
         "server.yaml: http.max_connections_per_ip: 64 is not below max_connections (64): one address could take every connection"),
        ("http:\n  header_timeout_seconds: 0", "server.yaml: http.header_timeout_seconds: 0.0 is outside 0.05...3600.0"),
        ("keys:\n  rotation_seconds: 10\n  grace_seconds: 20", "server.yaml: keys.grace_seconds: 20 is longer than rotation_seconds (10)"),
        ("keys:\n  rotation_seconds: 60\n  grace_seconds: 5\ndirectory:\n  period_seconds: 60",
         "server.yaml: directory.period_seconds: 60 is not shorter than keys.rotation_seconds (60): next onion keys would not reach senders before they take over"),
        ("directory:\n  bootstrap_urls: [\"http://a:1\", nope]",
         "server.yaml: directory.bootstrap_urls[1]: \"nope\" is not a bootstrap URL: invalid value: bootstrap URL must start with http:// or https://"),
        ("directory:\n  bootstrap_urls: [\"https://a:1/#spki=abc\"]",
         "server.yaml: directory.bootstrap_urls[0]: \"https://a:1/#spki=abc\" is not a bootstrap URL: invalid value: spki pin must be 44 characters of base64 (SHA-256)"),
        ("directory:\n  bootstrap_dns: \"a b.example\"",
         "server.yaml: directory.bootstrap_dns: \"a b.example\" is not a DNS domain (letters, digits, - and _ in dot-separated labels)"),
        ("directory:\n  bootstrap_dns: localhost", "server.yaml: directory.bootstrap_dns: \"localhost\" is not a DNS domain (letters, digits, - and _ in dot-separated labels)"),
        ("directory:\n  dns_server: \"[::1]:53\"", "server.yaml: directory.dns_server: \"[::1]:53\" is not an IPv4 address:port"),
        ("log:\n  level: loud", "server.yaml: log.level: \"loud\" is not one of \"trace\", \"debug\", \"info\", \"notice\", \"warning\", \"error\", \"critical\""),
        ("relay:\n  name: \"a\\u0007b\"", "server.yaml: relay.name: contains control characters"),
    ])
    func badValuesNameFileAndKeyPath(yaml: String, message: String) {
        #expect(throws: ConfigError.self) { try ServerConfig.parse(yaml: yaml) }
        do {
            _ = try ServerConfig.parse(yaml: yaml)
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func duplicateKeyIsRefused() {
        #expect {
            try ServerConfig.parse(yaml: "udp:\n  listen: a:1\n  listen: b:2")
        } throws: { error in
            "\(error)".hasPrefix("server.yaml: ") && "\(error)".contains("listen")
        }
    }

    @Test func invalidYAMLIsAClearError() {
        #expect {
            try ServerConfig.parse(yaml: "udp: [unclosed")
        } throws: { error in
            "\(error)".hasPrefix("server.yaml: not valid YAML")
        }
    }

    @Test func environmentOverridesSingleKeys() throws {
        let c = try ServerConfig.parse(yaml: "udp:\n  listen: 1.1.1.1:1", environment: [
            "SECIRC_SERVER_UDP_LISTEN": "127.0.0.1:7777",
            "SECIRC_SERVER_MAILBOX_TTL_SECONDS": "30",
            "SECIRC_SERVER_DIRECTORY_BOOTSTRAP_URLS": "[\"http://10.0.0.1:6691\"]",
            "UNRELATED": "x",
        ])
        #expect(c.udp.listen == HostPort(host: "127.0.0.1", port: 7777))
        #expect(c.mailbox.ttlSeconds == 30)
        #expect(c.directory.bootstrapURLs == ["http://10.0.0.1:6691"])
    }

    @Test func badEnvironmentValueNamesVariableAndKey() {
        #expect {
            try ServerConfig.parse(yaml: "", environment: ["SECIRC_SERVER_UDP_BATCH": "lots"])
        } throws: { error in
            "\(error)" == "SECIRC_SERVER_UDP_BATCH (server.yaml: udp.batch): \"lots\" is not a whole number"
        }
    }

    @Test func unknownEnvironmentVariableIsRefused() {
        #expect {
            try ServerConfig.parse(yaml: "", environment: ["SECIRC_SERVER_UDP_LISTN": "1.2.3.4:5"])
        } throws: { error in
            "\(error)" == "SECIRC_SERVER_UDP_LISTN (server.yaml): names no configuration key"
        }
    }

    @Test func missingFileIsAClearError() {
        #expect {
            try ServerConfig.load(path: "/nonexistent/server.yaml", environment: [:])
        } throws: { error in
            "\(error)" == "/nonexistent/server.yaml: cannot be read (missing, or no permission)"
        }
    }

    @Test func randomTextIsParsedOrRefusedWithTheFileNamed() {
        let seed = ProcessInfo.processInfo.environment["SECIRC_TEST_SEED"] ?? String(UInt64.random(in: 0...UInt64.max))
        print("ServerConfigTests: random input seed \(seed) (rerun with SECIRC_TEST_SEED=\(seed))")
        var rng = SeededRandom(seed: seed)
        let alphabet = Array("abc:{}[]-, \n\t\"'#&*!|>%@`0123456789.udplistenhttp")
        for _ in 0..<2_000 {
            let text = String((0..<Int.random(in: 0..<80, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            // Parsed, or refused with a ConfigError that names the file: never anything else.
            let parsers: [(String, (String) throws -> Void)] = [
                ("server.yaml", { _ = try ServerConfig.parse(yaml: $0) }),
                ("client.yaml", { _ = try ClientConfig.parse(yaml: $0) }),
                ("security.yaml", { _ = try SecurityConfig.parse(yaml: $0) }),
            ]
            for (file, parse) in parsers {
                do {
                    try parse(text)
                } catch let error as ConfigError {
                    #expect(error.file == file && !error.message.isEmpty, "seed \(seed): \(text.debugDescription) → \(error)")
                } catch {
                    Issue.record("seed \(seed): \(file) \(text.debugDescription) threw \(error), not a ConfigError")
                }
            }
        }
    }

    @Test func bootstrapDNSAndPinnedURLs() throws {
        let pin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        let c = try ServerConfig.parse(yaml: """
            directory:
              bootstrap_urls: ["https://relay.example:6691/#spki=\(pin)"]
              bootstrap_dns: _secirc.example.org
              dns_server: "127.0.0.1:5353"
            """)
        #expect(c.directory.bootstrapURLs == ["https://relay.example:6691/#spki=\(pin)"])
        #expect(c.directory.bootstrapDNS == "_secirc.example.org")
        #expect(c.directory.dnsServer == HostPort(host: "127.0.0.1", port: 5353))
    }
}

enum Fixtures {
    /// Path of a file in the repository, found from this source file's location.
    static func repoFile(_ relative: String, file: StaticString = #filePath) -> String {
        var url = URL(fileURLWithPath: "\(file)")
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("Package.swift")
            if FileManager.default.fileExists(atPath: candidate.path) { return url.appendingPathComponent(relative).path }
        }
        return relative
    }
}
