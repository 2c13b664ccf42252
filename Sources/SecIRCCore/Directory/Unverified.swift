/// Signed content that has not been checked yet. The only way to the content is a
/// `verified(...)` method, which checks the signatures over the exact received bytes first.
public struct Unverified<Content: SignedContent>: Sendable {
    public let document: SignedDocument

    /// Wraps a parsed envelope; checks only that its type is `Content`'s.
    public init(_ document: SignedDocument) throws {
        guard document.type == Content.documentType else {
            throw DirectoryError.wrongType(expected: Content.documentType, found: document.type)
        }
        self.document = document
    }

    /// Parses an envelope from untrusted bytes.
    public init(json: [UInt8]) throws {
        try self.init(SignedDocument.decode(json: json))
    }

    /// Decodes the body once its signatures have been accepted by the caller's rule.
    func decodeBody() throws -> Content {
        let content = try DocumentCoding.decode(Content.self, from: document.body)
        try content.validate()
        return content
    }
}

/// A document body that travels signed.
public protocol SignedContent: Codable, Sendable {
    /// The envelope's `type`, e.g. `secirc-descriptor-v1`.
    static var documentType: String { get }
    /// Rules beyond what decoding checks; throws `DirectoryError.invalid`.
    func validate() throws
}
