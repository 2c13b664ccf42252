/// Every error answer of the API: `{"error":{"code":"...","message":"..."}}` with a 4xx or 5xx
/// status. (The daemon writes it through SecIRCHTTP's `HTTPError`; this is its shape for readers.)
public struct ErrorBody: Codable, Sendable, Equatable {
    /// The error itself.
    public struct Detail: Codable, Sendable, Equatable {
        /// Machine-readable, e.g. `invalid_request`, `unauthorized`, `not_found`, `conflict`,
        /// `unavailable` (openapi/client.yaml lists them for each route).
        public var code: String
        /// For people.
        public var message: String

        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    public var error: Detail

    public init(code: String, message: String) {
        error = Detail(code: code, message: message)
    }
}
