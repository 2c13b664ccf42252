import Foundation
import Logging
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCRelay
import SecIRCRuntime
import Testing

/// A live relay serving HTTPS with its self-signed certificate, fetched the way relays and
/// clients fetch the directory (`DirectoryTracker` + the daemons' `HTTPFetcher`, libcurl): the
/// right pin works, a wrong pin and no pin are refused with a reason; and the same relay found
/// through a DNS TXT record served by a dnsmasq the test starts on 127.0.0.1.
@Suite(.serialized) struct PinnedBootstrapTests {
    /// A first-ring relay on HTTPS that holds its own directory.
    final class LiveRelay {
        let node: RelayNode
        let directory: String
        var base: String { "https://127.0.0.1:\(node.httpPort)" }

        init() async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-pin-\(UUID().uuidString)").path
            let settings = try RelaySettings.load(
                serverPath: nil, securityPath: nil, dataDirectory: directory, udpListen: "127.0.0.1:0", httpListen: "127.0.0.1:0",
                environment: ["SECIRC_SERVER_HTTP_TLS": "self_signed", "SECIRC_SERVER_DIRECTORY_PERIOD_SECONDS": "60"])
            node = try RelayNode(settings: settings, logLevel: LogLevelControl(.warning), logger: Logger(label: "test"))
            try node.start()
            let deadline = ContinuousClock.now.advanced(by: .seconds(20))
            while node.state.directory == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            _ = try #require(node.state.directory)
        }

        func stop() async {
            node.shutdown()
            await node.waitUntilStopped()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// One fetch through `tracker`, made now with the daemons' fetcher.
    static func fetchOnce(_ tracker: inout DirectoryTracker, fetcher: HTTPFetcher = HTTPFetcher()) throws -> DirectoryTracker.Outcome {
        let now = SystemClock().now()
        let due = tracker.fetchIfDue(now: now, id: 1)
        let request = try #require(due)
        return tracker.received(HTTPFetcher.exchange(request, dnsServer: fetcher.dnsServer), now: SystemClock().now())
    }

    @Test func rightPinFetchesWrongPinAndNoPinAreRefused() async throws {
        let relay = try await LiveRelay()
        let pin = try #require(relay.node.tlsPin)
        // The pin is what OpenSSL's command line computes from the certificate file.
        #expect(try Self.opensslPin(certificate: relay.directory + "/tls.crt") == pin)

        // /v1/relay shows the pin and where the directory came from (signed here).
        let own = HTTPFetcher.exchange(FetchRequest(id: 9, method: .get, url: "\(relay.base)/v1/relay#spki=\(pin)"))
        #expect(own.status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(own.body)) as? [String: Any])
        #expect(json["tls_spki_pin"] as? String == pin)
        #expect((json["directory_source"] as? [String: Any])?["channel"] as? String == "local")

        var right = DirectoryTracker(roster: relay.node.state.trustedRoster, sources: ["\(relay.base)/#spki=\(pin)"])
        #expect(try Self.fetchOnce(&right) == .installed)
        #expect(right.held?.channel == .httpsPinned)

        let wrongPin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        var wrong = DirectoryTracker(roster: relay.node.state.trustedRoster, sources: ["\(relay.base)/#spki=\(wrongPin)"])
        let refused = try Self.fetchOnce(&wrong)
        guard case let .refused(.untrustedServer(source, .pinMismatch(detail))) = refused else {
            Issue.record("a wrong pin was not refused as a pin mismatch: \(refused)")
            return await relay.stop()
        }
        #expect(source == "\(relay.base)/")
        #expect(!detail.isEmpty)
        #expect(wrong.held == nil)

        var unpinned = DirectoryTracker(roster: relay.node.state.trustedRoster, sources: [relay.base])
        let noPin = try Self.fetchOnce(&unpinned)
        guard case .refused(.untrustedServer(_, .certificate)) = noPin else {
            Issue.record("a self-signed certificate without a pin was not refused: \(noPin)")
            return await relay.stop()
        }
        await relay.stop()
    }

    @Test func aDNSTXTRecordBringsThePinnedURL() async throws {
        let relay = try await LiveRelay()
        let pin = try #require(relay.node.tlsPin)
        let dns = try DNSServer(records: ["v=spf1 -all", "\(relay.base)/#spki=\(pin)"])
        defer { dns.stop() }
        let fetcher = HTTPFetcher(dnsServer: TXTLookup.Server(host: "127.0.0.1", port: dns.port))

        var tracker = DirectoryTracker(roster: relay.node.state.trustedRoster, sources: ["dns:\(DNSServer.name)"])
        tracker.lookupInterval = .zero
        // Until dnsmasq answers (each attempt is a lookup that fails at once), then the fetch.
        let deadline = ContinuousClock.now.advanced(by: .seconds(20))
        var outcomes: [DirectoryTracker.Outcome] = []
        while tracker.held == nil, ContinuousClock.now < deadline {
            outcomes.append(try Self.fetchOnce(&tracker, fetcher: fetcher))
        }
        #expect(tracker.discovered == ["\(relay.base)/#spki=\(pin)"])
        #expect(tracker.held?.channel == .dns, "\(outcomes.suffix(3))")
        await relay.stop()
    }

    /// A relay with a self-signed key publishes its URL with the pin, so a node whose configured
    /// sources are all down fetches from it as a peer over pinned HTTPS (docs/PROTOCOL.md §3.7).
    @Test func theDescriptorCarriesThePinAndAPeerFetchChecksIt() async throws {
        let relay = try await LiveRelay()
        let pin = try #require(relay.node.tlsPin)
        let served = try #require(relay.node.state.directory)
        let own = try #require(served.descriptors.first { $0.id == relay.node.identity.id })
        #expect(own.http == "\(relay.base)/#spki=\(pin)")

        var tracker = DirectoryTracker(roster: relay.node.state.trustedRoster, sources: ["http://127.0.0.1:1"])
        try tracker.install(served.document, now: SystemClock().now(), channel: .http)
        #expect(try Self.fetchOnce(&tracker) == .refused(.unreachable(status: nil)))
        let due = tracker.fetchIfDue(now: SystemClock().now(), id: 2)
        let request = try #require(due)
        #expect(request.url == "\(relay.base)/v1/directory?since=\(served.directory.serial)#spki=\(pin)")
        // The held directory is the one served: the pinned exchange answers 304.
        #expect(tracker.received(HTTPFetcher.exchange(request), now: SystemClock().now()) == .unchanged)
        await relay.stop()
    }

    /// `openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`.
    static func opensslPin(certificate: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "openssl x509 -in '\(certificate)' -pubkey -noout | openssl pkey -pubin -outform der"
            + " | openssl dgst -sha256 -binary | base64"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// dnsmasq (Debian's dnsmasq-base) on 127.0.0.1 and a free UDP port, answering TXT records
/// for ``name`` and nothing else (no upstream, no hosts file, no configuration file).
final class DNSServer {
    static let name = "_secirc.test"
    let port: UInt16
    private let process = Process()

    init(records: [String]) throws {
        port = try Self.freeUDPPort()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/dnsmasq")
        process.arguments = ["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=",
                             "--listen-address=127.0.0.1", "--bind-interfaces", "--port=\(port)"]
            + records.map { "--txt-record=\(Self.name),\($0)" }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// SIGKILL: the test process may have SIGTERM blocked, and Foundation's Process passes the
    /// signal mask on to the child.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func freeUDPPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return UInt16(bigEndian: address.sin_port)
    }
}
