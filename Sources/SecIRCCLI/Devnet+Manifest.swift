import Foundation
public import SecIRCLauncher

extension Devnet {
    /// `devnet.json`: `{"relays":[{name,http,bootstrap_url,tls_spki_pin,udp,data_dir,admin_token_file,first_ring}],
    /// "ring":{"members":[names],"threshold":t}, "clients":{"alice":{api,token_file,data_dir,id},...}}`.
    public var manifest: [String: Any] {
        [
            "directory": directory,
            "relays": relays.map { relay -> [String: Any] in
                ["name": relay.name, "http": relay.http, "bootstrap_url": relay.bootstrapURL, "tls_spki_pin": relay.tlsPin,
                 "udp": relay.udp, "data_dir": relay.dataDirectory,
                 "admin_token_file": relay.adminTokenFile, "first_ring": ring.contains { $0.name == relay.name }]
            },
            "ring": ["members": (ring.isEmpty ? Array(relays.prefix(1)) : ring).map(\.name),
                     "threshold": (ring.isEmpty ? 1 : ring.count) / 2 + 1],
            "clients": Dictionary(uniqueKeysWithValues: clients.map { client -> (String, [String: Any]) in
                (client.name, ["api": client.apiURL, "token_file": client.tokenFile, "data_dir": client.dataDirectory, "id": client.id])
            }),
        ]
    }

    /// curl's options for a relay serving HTTPS with a self-signed certificate: trust its key
    /// by the pin alone (`-k` skips the certificate chain, `--pinnedpubkey` checks the key).
    static func curlPin(_ relay: Relay) -> String {
        relay.tlsPin.isEmpty ? "" : "-k --pinnedpubkey 'sha256//\(relay.tlsPin)' "
    }

    /// Where `devnet.json` is.
    public var manifestPath: String { directory + "/devnet.json" }

    /// Writes ``manifest`` to ``manifestPath``.
    public func writeManifest() throws(DevnetError) {
        do {
            let data = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
        } catch {
            throw .cannotPrepare(path: manifestPath, reason: "\(error)")
        }
    }

    /// What `secirc devnet` prints once the network is up: every endpoint and commands to try.
    /// `secirc` is how to run the command line (a path when it is not on PATH); `staysUp` adds
    /// how to stop it.
    /// `group`: the group of every client (its name and id), when one was made.
    public func summary(secirc: String, staysUp: Bool = true, group: (name: String, id: String)? = nil) -> String {
        var lines = ["", "secirc devnet is up: \(relays.count) relays, \(clients.count) clients (in \(directory))", "", "relays:"]
        let ringNames = ring.isEmpty ? Array(relays.prefix(1).map(\.name)) : ring.map(\.name)
        lines += TextFormat.table(relays.map { relay in
            let role = !ringNames.contains(relay.name) ? "trusts \(ringNames.joined(separator: ", "))"
                : ringNames.count == 1 ? "first ring" : "first ring (\(ringNames.count / 2 + 1) of \(ringNames.count))"
            return ["  \(relay.name)", relay.http, "udp \(relay.udp)", role, "admin token \(relay.adminTokenFile)"]
        }).split(separator: "\n").map(String.init)
        lines += ["", "clients:"]
        lines += TextFormat.table(clients.map { client in
            ["  \(client.name)", client.apiURL, "token \(client.tokenFile)", "data \(client.dataDirectory)"]
        }).split(separator: "\n").map(String.init)
        if clients.count >= 2 {
            let (a, b) = (clients[0], clients[1])
            let flags = { (client: Client) in "--api \(client.apiURL) --token-file \(client.tokenFile)" }
            lines += [
                "",
                "try:",
                "  \(secirc) \(flags(a)) send \(b.name) hi",
                "  \(secirc) \(flags(b)) messages \(a.name)",
                "  \(secirc) \(flags(b)) watch",
                "  export SECIRC_API=\(a.apiURL) SECIRC_TOKEN_FILE=\(a.tokenFile)   # then: \(secirc) contacts, \(secirc) network",
                "  curl -H \"Authorization: Bearer $(cat \(a.tokenFile))\" \(a.apiURL)/v1/contacts",
                "  curl -H \"Authorization: Bearer $(cat \(a.tokenFile))\" -H 'Content-Type: application/json' -d '{\"text\":\"hi\"}' \(a.apiURL)/v1/conversations/\(b.id)/messages",
                "  curl -N -H \"Authorization: Bearer $(cat \(b.tokenFile))\" \(b.apiURL)/v1/events",
            ]
            if let group {
                lines += [
                    "  \(secirc) \(flags(b)) groups post \(group.name) hello   # the group of every client, \(a.name) its admin",
                    "  \(secirc) \(flags(a)) groups messages \(group.name)",
                    "  curl -H \"Authorization: Bearer $(cat \(a.tokenFile))\" -H 'Content-Type: application/json' -d '{\"text\":\"hi\"}' \(a.apiURL)/v1/groups/\(group.id)/messages",
                ]
            }
            lines += [
                "  curl \(Self.curlPin(relays[0]))-H \"Authorization: Bearer $(cat \(relays[0].adminTokenFile))\" \(relays[0].http)/v1/admin/status",
            ]
            if ring.count > 1 {
                lines.append("  curl \(Self.curlPin(ring[0]))\(ring[0].http)/v1/ring/status   # the first ring's rounds")
                lines.append("  curl \(Self.curlPin(ring[0]))\(ring[0].http)/v1/ring/roster   # the roster in force (README: changing it)")
            }
        }
        lines += ["", "endpoints: \(manifestPath)", "logs: \(directory)/<name>.log"]
        if staysUp { lines.append("Ctrl-C stops everything.") }
        return lines.joined(separator: "\n")
    }
}
