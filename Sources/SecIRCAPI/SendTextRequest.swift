/// The body of `POST /v1/conversations/{id}/messages`: send a text message.
public struct SendTextRequest: Codable, Sendable, Equatable {
    /// 1 to 16384 bytes of UTF-8.
    public var text: String

    public init(text: String) {
        self.text = text
    }
}
