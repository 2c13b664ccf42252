internal import Foundation
internal import SecIRCCore

/// Reading a config file from disk (or using defaults when none is named), shared by the three
/// config types.
enum ConfigLoading {
    /// The YAML at `path` read by `decode`; with `path == nil`, an empty file (all defaults)
    /// under the display name `<defaultName> (defaults)`. Environment overrides apply either way.
    static func load<T>(path: String?, defaultName: String, environmentPrefix: String,
                        environment: [String: String], decode: (ConfigReader.Section) throws -> T) throws -> T {
        let file = path ?? "\(defaultName) (defaults)"
        var text = ""
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError(file: path, keyPath: "", message: "cannot be read (missing, or no permission)")
            }
            guard data.count <= 1 << 20 else { throw ConfigError(file: path, keyPath: "", message: "larger than 1 MiB") }
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw ConfigError(file: path, keyPath: "", message: "is not UTF-8 text")
            }
            text = decoded
        }
        return try parse(yaml: text, file: file, environmentPrefix: environmentPrefix, environment: environment, decode: decode)
    }

    static func parse<T>(yaml: String, file: String, environmentPrefix: String,
                         environment: [String: String], decode: (ConfigReader.Section) throws -> T) throws -> T {
        let reader = ConfigReader(file: file, environmentPrefix: environmentPrefix, environment: environment)
        let root = try reader.root(yaml: yaml)
        let value = try decode(root)
        try root.finish()
        try reader.finish()
        return value
    }

    /// `max_connections`, `max_connections_per_ip` (0: none; below `max_connections`) and
    /// `header_timeout_seconds` of an HTTP server's section (server.yaml `http`, client.yaml `api`).
    static func connectionLimits(_ s: ConfigReader.Section, defaults: (total: Int, perIP: Int, headerTimeout: Double))
        throws -> (total: Int, perIP: Int, headerTimeout: Double) {
        let total = try s.int("max_connections", default: defaults.total, in: 2...1_000_000)
        let perIP = try s.int("max_connections_per_ip", default: defaults.perIP, in: 0...1_000_000)
        if perIP >= total {
            throw s.invalid("max_connections_per_ip", "\(perIP) is not below max_connections (\(total)): one address could take every connection")
        }
        let headerTimeout = try s.double("header_timeout_seconds", default: defaults.headerTimeout, in: 0.05...3_600)
        return (total, perIP, headerTimeout)
    }

    /// A bootstrap URL of strict syntax (`BootstrapURL`): `http[s]://host[:port][/path]`, an
    /// `https` one optionally with `#spki=<base64>`, the SHA-256 pin of the server's key.
    static func bootstrapURL(_ text: String) throws(ConfigValueError) -> String {
        do {
            _ = try BootstrapURL(text)
        } catch {
            throw ConfigValueError("\"\(text)\" is not a bootstrap URL: \(error)")
        }
        return text
    }

    /// A domain whose TXT records list bootstrap URLs (`bootstrap_dns`): labels of letters,
    /// digits, `-` and `_` (as in `_secirc.example.org`; no `-` at either end of a label), at
    /// least two labels, at most 253 characters; "" for none.
    static func domain(_ text: String) throws(ConfigValueError) -> String {
        guard !text.isEmpty else { return text }
        let name = text.hasSuffix(".") ? text.dropLast() : Substring(text)
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard name.utf8.count <= 253, labels.count >= 2,
              labels.allSatisfy({ label in
                  (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                      && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
              })
        else { throw ConfigValueError("\"\(text)\" is not a DNS domain (letters, digits, - and _ in dot-separated labels)") }
        return text
    }

    /// `dns_server`: a dotted IPv4 `host:port` to send DNS lookups to instead of resolv.conf's
    /// servers (tests); "" for the system's.
    static func dnsServer(_ text: String) throws(ConfigValueError) -> HostPort? {
        guard !text.isEmpty else { return nil }
        let value = try HostPort(parsing: text)
        let parts = value.host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }), value.port > 0 else {
            throw ConfigValueError("\"\(text)\" is not an IPv4 address:port")
        }
        return value
    }

    /// `http://` or `https://` URL with a host.
    static func url(_ text: String) throws(ConfigValueError) -> String {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else { throw ConfigValueError("\"\(text)\" is not an http:// or https:// URL") }
        // A descriptor's `http` holds at most 256 bytes (docs/PROTOCOL.md §3.2).
        guard text.utf8.count <= 256 else { throw ConfigValueError("longer than 256 bytes") }
        return text
    }
}

/// How much the daemons log. `info` never carries client addresses, mailbox or user IDs.
public enum LogLevel: String, CaseIterable, Sendable {
    case trace, debug, info, notice, warning, error, critical
}
