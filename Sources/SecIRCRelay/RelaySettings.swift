public import SecIRCConfig

/// Everything a relay is configured with: server.yaml and security.yaml after command-line
/// overrides, validated.
public struct RelaySettings: Sendable {
    public var server: ServerConfig
    public var security: SecurityConfig

    /// Loads both files (nil: defaults) and applies the command-line overrides, which win over
    /// the files and the environment. Errors name the file or flag and the key path.
    public static func load(serverPath: String?, securityPath: String?, dataDirectory: String? = nil,
                            udpListen: String? = nil, httpListen: String? = nil,
                            environment: [String: String]? = nil) throws -> RelaySettings {
        var server = try ServerConfig.load(path: serverPath, environment: environment)
        let security = try SecurityConfig.load(path: securityPath, environment: environment)
        if let dataDirectory {
            guard !dataDirectory.isEmpty else {
                throw ConfigError(file: "--data-dir", keyPath: "", message: "must not be empty")
            }
            server.relay.dataDirectory = dataDirectory
        }
        if let udpListen { server.udp.listen = try flag("--udp-listen", udpListen) }
        if let httpListen { server.http.listen = try flag("--http-listen", httpListen) }
        return RelaySettings(server: server, security: security)
    }

    private static func flag(_ name: String, _ value: String) throws -> HostPort {
        do { return try HostPort(parsing: value) } catch {
            throw ConfigError(file: name, keyPath: "", message: error.message)
        }
    }

    /// Operator-facing lines describing the effective settings (no secrets in them).
    public var summary: [String] {
        let ring = security.firstRing
        let ringText = ring.members.isEmpty
            ? "this relay alone (single-machine default)"
            : "\(ring.members.count) members, threshold \(ring.effectiveThreshold(memberCount: ring.members.count))"
        return [
            "data dir \(server.relay.dataDirectory)",
            "udp listen \(server.udp.listen)",
            "http listen \(server.http.listen) (tls \(server.http.tls.rawValue))",
            "first ring \(ringText)",
        ]
    }
}
