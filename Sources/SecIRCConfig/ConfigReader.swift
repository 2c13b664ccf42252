internal import Foundation
internal import Yams

/// Reads one YAML file into typed values, key by key, tracking the key path so every error
/// names the file and the key. Each read also looks for an environment override
/// `SECIRC_<FILE>_<KEY_PATH>` (e.g. `SECIRC_SERVER_UDP_LISTEN` for `udp.listen` in server.yaml),
/// whose value is parsed as YAML. Keys the schema does not read are errors (`finish()`), and so
/// are `SECIRC_<FILE>_...` variables that name no key.
final class ConfigReader {
    let file: String
    private let environmentPrefix: String
    private let environment: [String: String]
    private var usedVariables: Set<String> = []

    init(file: String, environmentPrefix: String, environment: [String: String]) {
        self.file = file
        self.environmentPrefix = environmentPrefix
        self.environment = environment
    }

    /// Parses `text` and returns the root section. Empty text is an empty mapping.
    func root(yaml text: String) throws -> Section {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(file: file, keyPath: "", message: "not valid YAML: \(Self.describe(error))")
        }
        guard let node, node.null == nil else { return try Section(reader: self, path: [], node: .mapping([:])) }
        return try Section(reader: self, path: [], node: node)
    }

    /// Fails on `SECIRC_<FILE>_...` variables that no read consumed.
    func finish() throws {
        let unused = environment.keys.filter { $0.hasPrefix(environmentPrefix) && !usedVariables.contains($0) }.sorted()
        if let first = unused.first {
            throw ConfigError(file: file, keyPath: "", variable: first, message: "names no configuration key")
        }
    }

    func error(_ path: [String], _ message: String, variable: String? = nil) -> ConfigError {
        ConfigError(file: file, keyPath: path.joined(separator: ".").replacingOccurrences(of: ".[", with: "["),
                    variable: variable, message: message)
    }

    /// The override for `path`, if its variable is set, as a parsed node.
    fileprivate func override(_ path: [String]) throws -> (node: Node, variable: String)? {
        guard !path.contains(where: { $0.hasPrefix("[") }) else { return nil }
        let name = environmentPrefix + path.joined(separator: "_").uppercased()
        guard let value = environment[name] else { return nil }
        usedVariables.insert(name)
        do {
            return (try Yams.compose(yaml: value) ?? Node("", Tag(.null)), name)
        } catch {
            throw self.error(path, "not valid YAML: \(Self.describe(error))", variable: name)
        }
    }

    private static func describe(_ error: any Error) -> String {
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "parse error"
    }

    /// A YAML mapping being read; remembers which keys were read.
    final class Section {
        let reader: ConfigReader
        let path: [String]
        private let entries: [String: Node]
        private var read: Set<String> = []

        fileprivate init(reader: ConfigReader, path: [String], node: Node) throws {
            self.reader = reader
            self.path = path
            guard case let .mapping(mapping) = node else {
                throw reader.error(path, "expected a mapping of keys, got \(Self.kind(node))")
            }
            var entries: [String: Node] = [:]
            for (key, value) in mapping {
                guard case let .scalar(scalar) = key else { throw reader.error(path, "keys must be plain text") }
                guard entries.updateValue(value, forKey: scalar.string) == nil else {
                    throw reader.error(path + [scalar.string], "duplicate key")
                }
            }
            self.entries = entries
        }

        /// The value at `key` (after any environment override), or nil when absent or null.
        private func node(_ key: String) throws -> (Node, String?)? {
            read.insert(key)
            if let (node, variable) = try reader.override(path + [key]) {
                return node.null == nil ? (node, variable) : nil
            }
            guard let node = entries[key], node.null == nil else { return nil }
            return (node, nil)
        }

        /// Reads a scalar and converts it; `convert` throws `ConfigValueError` with the reason.
        func scalar<T>(_ key: String, default value: T, _ convert: (String) throws(ConfigValueError) -> T) throws -> T {
            guard let (node, variable) = try node(key) else { return value }
            guard case let .scalar(scalar) = node else {
                throw reader.error(path + [key], "expected a single value, got \(Self.kind(node))", variable: variable)
            }
            do {
                return try convert(scalar.string)
            } catch {
                throw reader.error(path + [key], error.message, variable: variable)
            }
        }

        func string(_ key: String, default value: String, maxLength: Int = 4096) throws -> String {
            try scalar(key, default: value) { (text) throws(ConfigValueError) in
                guard text.utf8.count <= maxLength else { throw ConfigValueError("longer than \(maxLength) bytes") }
                guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                    throw ConfigValueError("contains control characters")
                }
                return text
            }
        }

        func int(_ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
            try scalar(key, default: value) { (text) throws(ConfigValueError) in
                guard let number = Int(text.replacingOccurrences(of: "_", with: "")) else {
                    throw ConfigValueError("\"\(text)\" is not a whole number")
                }
                guard range.contains(number) else {
                    throw ConfigValueError("\(number) is outside \(range.lowerBound)...\(range.upperBound)")
                }
                return number
            }
        }

        func double(_ key: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
            try scalar(key, default: value) { (text) throws(ConfigValueError) in
                guard let number = Double(text), number.isFinite else { throw ConfigValueError("\"\(text)\" is not a number") }
                guard range.contains(number) else {
                    throw ConfigValueError("\(number) is outside \(range.lowerBound)...\(range.upperBound)")
                }
                return number
            }
        }

        func bool(_ key: String, default value: Bool) throws -> Bool {
            try scalar(key, default: value) { (text) throws(ConfigValueError) in
                switch text.lowercased() {
                case "true", "yes", "on": return true
                case "false", "no", "off": return false
                default: throw ConfigValueError("\"\(text)\" is not true or false")
                }
            }
        }

        func hostPort(_ key: String, default value: HostPort) throws -> HostPort {
            try scalar(key, default: value) { (text) throws(ConfigValueError) in try HostPort(parsing: text) }
        }

        /// One of a fixed set of words.
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, default value: T) throws -> T where T.RawValue == String {
            try scalar(key, default: value) { (text) throws(ConfigValueError) in
                guard let choice = T(rawValue: text) else {
                    let words = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                    throw ConfigValueError("\"\(text)\" is not one of \(words)")
                }
                return choice
            }
        }

        /// A list of scalars, each converted.
        func list<T>(_ key: String, default value: [T], maxCount: Int = 64,
                     _ convert: (String) throws(ConfigValueError) -> T) throws -> [T] {
            guard let (node, variable) = try node(key) else { return value }
            guard case let .sequence(sequence) = node else {
                throw reader.error(path + [key], "expected a list, got \(Self.kind(node))", variable: variable)
            }
            guard sequence.count <= maxCount else {
                throw reader.error(path + [key], "more than \(maxCount) entries", variable: variable)
            }
            return try sequence.enumerated().map { index, item in
                let itemPath = path + [key, "[\(index)]"]
                guard case let .scalar(scalar) = item else {
                    throw reader.error(itemPath, "expected a single value, got \(Self.kind(item))", variable: variable)
                }
                do {
                    return try convert(scalar.string)
                } catch {
                    throw reader.error(itemPath, (error as? ConfigValueError)?.message ?? "\(error)", variable: variable)
                }
            }
        }

        /// A nested mapping; absent means an empty one (all defaults).
        func section<T>(_ key: String, _ body: (Section) throws -> T) throws -> T {
            let child: Section
            if let (node, _) = try node(key) {
                child = try Section(reader: reader, path: path + [key], node: node)
            } else {
                child = try Section(reader: reader, path: path + [key], node: .mapping([:]))
            }
            let result = try body(child)
            try child.finish()
            return result
        }

        /// A list of mappings, each read by `body`.
        func sections<T>(_ key: String, maxCount: Int = 64, _ body: (Section) throws -> T) throws -> [T] {
            guard let (node, variable) = try node(key) else { return [] }
            guard case let .sequence(sequence) = node else {
                throw reader.error(path + [key], "expected a list, got \(Self.kind(node))", variable: variable)
            }
            guard sequence.count <= maxCount else {
                throw reader.error(path + [key], "more than \(maxCount) entries", variable: variable)
            }
            return try sequence.enumerated().map { index, item in
                let child = try Section(reader: reader, path: path + [key, "[\(index)]"], node: item)
                let result = try body(child)
                try child.finish()
                return result
            }
        }

        /// Fails on keys nobody read: a misspelt key must not be silently ignored.
        func finish() throws {
            if let unknown = entries.keys.filter({ !read.contains($0) }).sorted().first {
                throw reader.error(path + [unknown], "unknown key")
            }
        }

        /// Raises a validation failure for `key` found after reading (cross-field checks).
        func invalid(_ key: String, _ message: String) -> ConfigError {
            reader.error(path + [key], message)
        }

        private static func kind(_ node: Node) -> String {
            switch node {
            case .scalar: "a single value"
            case .mapping: "a mapping"
            case .sequence: "a list"
            case .alias: "an alias"
            }
        }
    }
}
