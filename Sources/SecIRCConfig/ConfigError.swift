/// Why a configuration was refused. The description names the file (or environment variable)
/// and the key path, e.g. `server.yaml: udp.listen: "abc" is not host:port`.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file as the operator named it, or `<name> (defaults)` when no file was read.
    public let file: String
    /// Dotted key path (`udp.listen`, `first_ring.members[1].udp`); empty for whole-file problems.
    public let keyPath: String
    /// The environment variable that supplied the value, when one did.
    public let variable: String?
    public let message: String

    public init(file: String, keyPath: String, variable: String? = nil, message: String) {
        self.file = file
        self.keyPath = keyPath
        self.variable = variable
        self.message = message
    }

    public var description: String {
        let place = keyPath.isEmpty ? file : "\(file): \(keyPath)"
        if let variable { return "\(variable) (\(place)): \(message)" }
        return "\(place): \(message)"
    }
}
