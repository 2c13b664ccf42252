/// Wraps a value that must never appear in logs or descriptions: configuration secrets,
/// tokens, client addresses. `"\(redacted)"` prints `<redacted>`; read `.value` explicitly.
public struct Redacted<Value>: CustomStringConvertible, CustomDebugStringConvertible {
    public var value: Value
    public init(_ value: Value) { self.value = value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

extension Redacted: Sendable where Value: Sendable {}
extension Redacted: Equatable where Value: Equatable {}
