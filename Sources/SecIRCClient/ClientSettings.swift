public import SecIRCConfig
public import SecIRCCore

/// Everything a client daemon is configured with: client.yaml, and the first ring it trusts
/// from security.yaml, after command-line overrides, validated.
public struct ClientSettings: Sendable {
    public var client: ClientConfig
    public var security: SecurityConfig

    public init(client: ClientConfig, security: SecurityConfig) {
        self.client = client
        self.security = security
    }

    /// Loads both files (nil: defaults) and applies the command-line overrides, which win over
    /// the files and the environment. Errors name the file or flag and the key path.
    public static func load(configPath: String?, securityPath: String?, dataDirectory: String? = nil,
                            apiListen: String? = nil, environment: [String: String]? = nil) throws -> ClientSettings {
        var client = try ClientConfig.load(path: configPath, environment: environment)
        let security = try SecurityConfig.load(path: securityPath, environment: environment)
        if let dataDirectory {
            guard !dataDirectory.isEmpty else { throw ConfigError(file: "--data-dir", keyPath: "", message: "must not be empty") }
            client.dataDirectory = dataDirectory
        }
        if let apiListen {
            let listen: HostPort
            do { listen = try HostPort(parsing: apiListen) } catch {
                throw ConfigError(file: "--api-listen", keyPath: "", message: error.message)
            }
            guard listen.isLoopback else {
                throw ConfigError(file: "--api-listen", keyPath: "",
                                  message: "\"\(apiListen)\" is not a loopback address; the client API must stay on 127.0.0.1 or ::1")
            }
            client.api.listen = listen
        }
        let settings = ClientSettings(client: client, security: security)
        _ = try settings.trustedRoster()
        return settings
    }

    /// The first ring whose signatures make a directory usable. A client cannot verify anything
    /// without it, so an empty list is refused.
    public func trustedRoster() throws -> Roster {
        let ring = security.firstRing
        guard !ring.members.isEmpty else {
            throw ConfigError(file: "security.yaml", keyPath: "first_ring.members",
                              message: "is empty: a client needs the first ring's public keys to verify the relay directory")
        }
        return Roster(members: ring.members.map { Roster.Member(identityKey: $0.publicKey, udp: $0.udp.description, http: $0.http) },
                      threshold: ring.effectiveThreshold(memberCount: ring.members.count))
    }

    /// Operator-facing lines describing the effective settings (no secrets in them).
    public var summary: [String] {
        [
            "data dir \(client.dataDirectory)",
            "api listen \(client.api.listen)",
            "bootstrap \(client.network.bootstrapURLs.joined(separator: ", "))",
            "first ring \(security.firstRing.members.count) members",
            "path length \(client.network.pathLength), cover traffic \(client.network.coverProfile.rawValue)",
        ]
    }
}
