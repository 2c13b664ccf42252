import Foundation
import Logging
import SecIRCAPI
import SecIRCClient
import SecIRCRelay
import SecIRCTransport
import Testing

/// Three relays and two client daemons composed in this process — the same `RelayNode` and
/// `ClientNode` the executables run, their HTTP APIs on loopback — once over the in-memory
/// network and once over real UDP on 127.0.0.1: alice writes to bob, bob reads it, alice sees
/// it delivered, and bob answers.
@Suite struct InProcessMeshTests {
    enum Wire: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case memory, udp
        var testDescription: String { rawValue }
    }

    final class Mesh {
        let root: String
        let network = InMemoryNetwork()
        let wire: Wire
        var relays: [RelayNode] = []
        var clients: [ClientNode] = []

        init(wire: Wire) throws {
            self.wire = wire
            root = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-inprocess-\(UUID().uuidString)").path
        }

        func transport() throws -> (any DatagramTransport)? {
            switch wire {
            case .memory: try network.bind(SocketAddress(host: "127.0.0.1", port: 0))
            case .udp: nil
            }
        }

        /// The first ring as security.yaml lists it, once relay a is up.
        var ringMember: String {
            let a = relays[0]
            return "[{public_key: \(a.identity.signingKey.publicKey.rawValue.hex), udp: '\(a.udpAddress)', http: 'http://127.0.0.1:\(a.httpPort)'}]"
        }

        func startRelay(_ name: String, firstRing: Bool) throws {
            // Every relay advertises 127.0.0.1 (security.yaml's default caps are 2 per address, 4 per /24).
            var environment = ["SECIRC_SERVER_DIRECTORY_PERIOD_SECONDS": "1", "SECIRC_SECURITY_NETWORK_MEAN_DELAY_MS": "5",
                               "SECIRC_SECURITY_ADMISSION_MAX_RELAYS_PER_ADDRESS": "0", "SECIRC_SECURITY_ADMISSION_MAX_RELAYS_PER_PREFIX": "0",
                               "SECIRC_SECURITY_ADMISSION_PROBATION_HOURS": "0"]
            if !firstRing { environment["SECIRC_SECURITY_FIRST_RING_MEMBERS"] = ringMember }
            let settings = try RelaySettings.load(serverPath: nil, securityPath: nil, dataDirectory: root + "/" + name,
                                                  udpListen: "127.0.0.1:0", httpListen: "127.0.0.1:0", environment: environment)
            let node = try RelayNode(settings: settings, logLevel: LogLevelControl(.warning), logger: Logger(label: name),
                                     transport: transport())
            try node.start()
            relays.append(node)
        }

        func startClient(_ name: String) throws -> APIClient {
            let bootstrap = "[" + relays.map { "'http://127.0.0.1:\($0.httpPort)'" }.joined(separator: ", ") + "]"
            let settings = try ClientSettings.load(
                configPath: nil, securityPath: nil, dataDirectory: root + "/" + name, apiListen: "127.0.0.1:0",
                environment: ["SECIRC_CLIENT_NETWORK_BOOTSTRAP_URLS": bootstrap, "SECIRC_CLIENT_NETWORK_COVER_TRAFFIC": "off",
                              "SECIRC_CLIENT_NETWORK_POLL_INTERVAL_MS": "100", "SECIRC_CLIENT_MESSAGES_RETRY_INITIAL_SECONDS": "1",
                              "SECIRC_CLIENT_MESSAGES_RETRY_MAX_SECONDS": "4", "SECIRC_CLIENT_CLIENT_DISPLAY_NAME": name,
                              "SECIRC_CLIENT_CONTACTS_AUTO_ACCEPT": "true",
                              "SECIRC_SECURITY_FIRST_RING_MEMBERS": ringMember])
            let node = try ClientNode(settings: settings, logger: Logger(label: name), transport: transport())
            try node.start()
            clients.append(node)
            let token = try String(contentsOfFile: node.tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return try APIClient(baseURL: "http://127.0.0.1:\(node.apiPort)", token: token, timeout: 10)
        }

        func stop() async {
            for client in clients { client.shutdown() }
            for relay in relays {
                relay.shutdown()
                await relay.waitUntilStopped()
            }
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    @Test(arguments: Wire.allCases)
    func aliceAndBobExchangeMessagesThroughThreeRelays(wire: Wire) async throws {
        let mesh = try Mesh(wire: wire)
        do {
            try await exchange(on: mesh)
        } catch {
            await mesh.stop()
            throw error
        }
        await mesh.stop()
    }

    private func exchange(on mesh: Mesh) async throws {
        try mesh.startRelay("a", firstRing: true)
        try await eventually("relay a signs a directory") { mesh.relays[0].state.directory != nil }
        try mesh.startRelay("b", firstRing: false)
        try mesh.startRelay("c", firstRing: false)
        try await eventually("every relay lists all three") {
            mesh.relays.allSatisfy { $0.state.directory?.descriptors.count == 3 }
        }
        let alice = try mesh.startClient("alice")
        let bob = try mesh.startClient("bob")
        var invite = ""
        try await eventually("bob's invite names two mailbox relays") {
            let response = try bob.decode(InviteResponse.self, "/v1/invite")
            invite = response.uri
            return response.mailboxes.count == 2
        }
        try await eventually("alice has mailboxes too") { try alice.send("GET", "/v1/invite").status == 200 }
        let bobID = try bob.decode(Identity.self, "/v1/identity").id
        let aliceID = try alice.decode(Identity.self, "/v1/identity").id
        _ = try alice.call("POST", "/v1/contacts", json: AddContactRequest(invite: invite, name: "bob"))
        let sent = try alice.decode(Message.self, "/v1/conversations/\(bobID)/messages", method: "POST",
                                    json: SendTextRequest(text: "hello bob"))
        try await eventually("bob reads alice's message") {
            try bob.decode(MessagePage.self, "/v1/conversations/\(aliceID)/messages").messages.contains { $0.text == "hello bob" }
        }
        try await eventually("alice sees it delivered") { try alice.decode(Message.self, "/v1/messages/\(sent.id)").state == "delivered" }
        _ = try bob.call("POST", "/v1/conversations/\(aliceID)/messages", json: SendTextRequest(text: "hello alice"))
        try await eventually("alice reads bob's answer") {
            try alice.decode(MessagePage.self, "/v1/conversations/\(bobID)/messages").messages.contains { $0.text == "hello alice" }
        }
        let received = try bob.decode(MessagePage.self, "/v1/conversations/\(aliceID)/messages").messages.filter { $0.direction == "in" }
        #expect(received.count == 1, "shown once")
    }
}
