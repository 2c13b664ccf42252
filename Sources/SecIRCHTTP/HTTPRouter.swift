import SecIRCLock

/// A synchronous request handler; it runs on a server thread, so it must not block for long.
/// A thrown `HTTPError` becomes its JSON answer; any other error becomes 500 `internal` with a
/// generic message (the error's text never reaches the client).
public typealias HTTPHandler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// Maps method + path to handlers. Routes may be added at any time from any thread.
///
/// Order of decisions: no route pattern matches the path → 404 `not_found`; patterns match but
/// none for this method → 405 `method_not_allowed` with `Allow`; the route's auth fails → 401
/// `unauthorized` with `WWW-Authenticate: Bearer`; else the handler. `HEAD` uses the `GET`
/// handler unless a `HEAD` route exists. Literal routes win over patterns with parameters;
/// among patterns, the first added wins.
public final class HTTPRouter: Sendable {
    struct Route: Sendable {
        let method: HTTPMethod
        let pattern: RoutePattern
        let auth: HTTPAuth
        let handler: HTTPHandler
    }

    private struct Table: Sendable {
        /// All routes in the order added (for `routes`).
        var all: [Route] = []
        /// Literal paths → their routes.
        var literal: [String: [Route]] = [:]
        /// Routes with parameters, in the order added.
        var patterned: [Route] = []
    }

    private let table = Locked(Table())

    public init() {}

    /// Registers `handler` for `method` on `pattern` (e.g. `/v1/admin/peers/:id`).
    public func add(_ method: HTTPMethod, _ pattern: String, auth: HTTPAuth = .none, _ handler: @escaping HTTPHandler) {
        let route = Route(method: method, pattern: RoutePattern(pattern), auth: auth, handler: handler)
        table.withLock { table in
            table.all.append(route)
            if route.pattern.isLiteral {
                table.literal[pattern, default: []].append(route)
            } else {
                table.patterned.append(route)
            }
        }
    }

    public func get(_ pattern: String, auth: HTTPAuth = .none, _ handler: @escaping HTTPHandler) {
        add(.get, pattern, auth: auth, handler)
    }

    public func post(_ pattern: String, auth: HTTPAuth = .none, _ handler: @escaping HTTPHandler) {
        add(.post, pattern, auth: auth, handler)
    }

    public func put(_ pattern: String, auth: HTTPAuth = .none, _ handler: @escaping HTTPHandler) {
        add(.put, pattern, auth: auth, handler)
    }

    public func delete(_ pattern: String, auth: HTTPAuth = .none, _ handler: @escaping HTTPHandler) {
        add(.delete, pattern, auth: auth, handler)
    }

    /// Every registered (method, pattern), in the order added.
    public var routes: [(HTTPMethod, String)] {
        table.withLock { $0.all.map { ($0.method, $0.pattern.text) } }
    }

    /// Every route as an OpenAPI operation, `"GET /v1/contacts/{id}"` (`:name` → `{name}`), to
    /// compare with a spec's `paths`.
    public var openAPIOperations: Set<String> {
        Set(routes.map { method, pattern in
            "\(method.rawValue) " + pattern.split(separator: "/")
                .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                .reduce("") { $0 + "/" + $1 }
        })
    }

    /// Routes `request` and runs its handler, without a socket. For `HEAD` the body is dropped
    /// (`Content-Length` aside, as a server would send it).
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        var response = respond(to: request)
        if request.method == .head {
            if case let .stream(stream) = response.body { stream.close() }
            response.body = .bytes([])
        }
        return response
    }

    /// Routing and the handler, with the body kept for `HEAD` (the server sends the headers of
    /// the full body and libmicrohttpd omits it).
    func respond(to request: HTTPRequest) -> HTTPResponse {
        let found: (Route, [String: String])?
        let allowed: [HTTPMethod]
        (found, allowed) = lookup(request.method, request.path)
        guard let (route, parameters) = found else {
            if allowed.isEmpty { return .error(.notFound("no route for \(request.method.rawValue) \(request.path)")) }
            var response = HTTPResponse.error(.methodNotAllowed(request.method, allowed: allowed))
            response.headers.append(("Allow", allowed.map(\.rawValue).joined(separator: ", ")))
            return response
        }
        if case let .bearer(token) = route.auth, !token.verify(authorization: request.header("authorization")) {
            var response = HTTPResponse.error(.unauthorized())
            response.headers.append(("WWW-Authenticate", "Bearer"))
            return response
        }
        var routed = request
        routed.pathParameters = parameters
        do {
            return try route.handler(routed)
        } catch let error as HTTPError {
            return .error(error)
        } catch {
            return .error(.internalError)
        }
    }

    /// The route for (method, path) with its parameters, or nil and the methods the path has
    /// (empty: unknown path). The common case (a literal path and its method) is one
    /// dictionary lookup.
    private func lookup(_ method: HTTPMethod, _ path: String) -> ((Route, [String: String])?, [HTTPMethod]) {
        table.withLock { table in
            let literal = table.literal[path] ?? []
            func find(_ wanted: HTTPMethod) -> (Route, [String: String])? {
                if let route = literal.first(where: { $0.method == wanted }) { return (route, [:]) }
                for route in table.patterned where route.method == wanted {
                    if let parameters = route.pattern.match(path) { return (route, parameters) }
                }
                return nil
            }
            if let found = find(method) { return (found, []) }
            if method == .head, let found = find(.get) { return (found, []) }
            var methods: [HTTPMethod] = []
            let matching = literal + table.patterned.filter { $0.pattern.match(path) != nil }
            for route in matching where !methods.contains(route.method) { methods.append(route.method) }
            if methods.contains(.get) && !methods.contains(.head) { methods.append(.head) }
            return (nil, methods)
        }
    }
}
