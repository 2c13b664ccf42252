/// Who may call a route.
public enum HTTPAuth: Sendable {
    /// Anyone.
    case none
    /// Requests with `Authorization: Bearer <token>` matching `token` (constant time).
    case bearer(HTTPBearerToken)
}
