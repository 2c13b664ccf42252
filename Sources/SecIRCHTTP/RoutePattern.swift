/// A route path such as `/v1/admin/peers/:id`: literal segments and `:name` parameters, each
/// matching exactly one non-empty path segment. No wildcards, no percent-decoding.
struct RoutePattern: Sendable, Equatable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    let text: String
    let segments: [Segment]

    /// True when the pattern has no parameters (it then matches only its own text).
    var isLiteral: Bool { !segments.contains { if case .parameter = $0 { true } else { false } } }

    /// Fails (precondition) on patterns that are a programming error: not starting with `/`,
    /// an empty parameter name, or a parameter name used twice.
    init(_ text: String) {
        precondition(text.hasPrefix("/"), "route pattern must start with '/': \(text)")
        self.text = text
        var names = Set<String>()
        segments = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part in
            guard part.hasPrefix(":") else { return .literal(String(part)) }
            let name = String(part.dropFirst())
            precondition(!name.isEmpty, "empty parameter name in route pattern \(text)")
            precondition(names.insert(name).inserted, "parameter ':\(name)' repeated in route pattern \(text)")
            return .parameter(name)
        }
    }

    /// The parameters when `path` matches, else nil.
    func match(_ path: String) -> [String: String]? {
        var parameters: [String: String] = [:]
        var parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        guard path.utf8.first == UInt8(ascii: "/"), parts.count == segments.count else { return nil }
        for segment in segments {
            guard let part = parts.popFirst() else { return nil }
            switch segment {
            case let .literal(literal):
                guard part.elementsEqual(literal.utf8) else { return nil }
            case let .parameter(name):
                guard !part.isEmpty else { return nil }
                parameters[name] = String(Substring(part))
            }
        }
        return parameters
    }
}
