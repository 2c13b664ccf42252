@testable import SecIRCHTTP
import Testing

/// Routing without a socket: patterns, parameters, 404/405 JSON, HEAD, handler errors.
@Suite("Router")
struct RouterTests {
    struct Failure: Error { let secret = "database password is hunter2" }

    static func makeRouter() -> HTTPRouter {
        let router = HTTPRouter()
        router.get("/healthz") { _ in .text("ok") }
        router.get("/v1/admin/peers/:id") { request in .text("peer \(request.pathParameters["id"]!)") }
        router.get("/v1/admin/peers/count") { _ in .text("count") }
        router.delete("/v1/admin/peers/:id") { request in .text("removed \(request.pathParameters["id"]!)") }
        router.get("/v1/ring/:epoch/votes/:relay") { request in
            .json(request.pathParameters)
        }
        router.post("/v1/fail") { _ in throw Failure() }
        router.post("/v1/conflict") { _ in throw HTTPError.conflict("already there") }
        router.put("/v1/thing") { _ in .noContent }
        return router
    }

    @Test("literal route and body")
    func literal() {
        let response = Self.makeRouter().handle(request(.get, "/healthz"))
        #expect(response.status == 200)
        #expect(text(response) == "ok")
        #expect(response.header("content-type") == "text/plain; charset=utf-8")
    }

    @Test("parameters are taken from their segments; literal beats pattern")
    func parameters() {
        let router = Self.makeRouter()
        #expect(text(router.handle(request(.get, "/v1/admin/peers/abc123"))) == "peer abc123")
        #expect(text(router.handle(request(.get, "/v1/admin/peers/count"))) == "count")
        #expect(text(router.handle(request(.delete, "/v1/admin/peers/count"))) == "removed count")
        #expect(text(router.handle(request(.get, "/v1/ring/7/votes/r1"))) == #"{"epoch":"7","relay":"r1"}"#)
    }

    @Test("unknown path: 404 JSON", arguments: ["/", "/nope", "/healthz/", "/v1/admin/peers", "/v1/admin/peers/",
                                                "/v1/admin/peers/a/b", "healthz", "", "//healthz"])
    func notFound(path: String) {
        let response = Self.makeRouter().handle(request(.get, path))
        #expect(response.status == 404)
        #expect(response.header("Content-Type") == "application/json")
        #expect(text(response) == #"{"error":{"code":"not_found","message":"no route for GET \#(path)"}}"#)
    }

    @Test("known path, wrong method: 405 JSON with Allow")
    func methodNotAllowed() {
        let response = Self.makeRouter().handle(request(.post, "/v1/admin/peers/x"))
        #expect(response.status == 405)
        #expect(response.header("Allow") == "GET, DELETE, HEAD")
        #expect(text(response) == #"{"error":{"code":"method_not_allowed","message":"method POST not allowed; allowed: GET, DELETE, HEAD"}}"#)
        let put = Self.makeRouter().handle(request(.get, "/v1/thing"))
        #expect(put.status == 405)
        #expect(put.header("Allow") == "PUT")
    }

    @Test("HEAD is served by the GET handler without a body")
    func head() {
        let router = Self.makeRouter()
        let response = router.handle(request(.head, "/v1/admin/peers/abc"))
        #expect(response.status == 200)
        #expect(response.bodyBytes.isEmpty)
        #expect(response.header("content-type") == "text/plain; charset=utf-8")
        #expect(text(router.respond(to: request(.head, "/v1/admin/peers/abc"))) == "peer abc")   // the server sends its length
    }

    @Test("a HEAD route wins over GET")
    func explicitHead() {
        let router = HTTPRouter()
        router.get("/x") { _ in .text("get") }
        router.add(.head, "/x") { _ in HTTPResponse(status: 299) }
        #expect(router.handle(request(.head, "/x")).status == 299)
    }

    @Test("a non-HTTP error is a generic 500; its text is not sent")
    func internalError() {
        let response = Self.makeRouter().handle(request(.post, "/v1/fail"))
        #expect(response.status == 500)
        #expect(text(response) == #"{"error":{"code":"internal","message":"internal error"}}"#)
    }

    @Test("a thrown HTTPError is its JSON")
    func thrownHTTPError() {
        let response = Self.makeRouter().handle(request(.post, "/v1/conflict"))
        #expect(response.status == 409)
        #expect(text(response) == #"{"error":{"code":"conflict","message":"already there"}}"#)
    }

    @Test("routes lists every (method, pattern) in order")
    func routes() {
        let routes = Self.makeRouter().routes.map { "\($0.0.rawValue) \($0.1)" }
        #expect(routes == ["GET /healthz", "GET /v1/admin/peers/:id", "GET /v1/admin/peers/count",
                           "DELETE /v1/admin/peers/:id", "GET /v1/ring/:epoch/votes/:relay",
                           "POST /v1/fail", "POST /v1/conflict", "PUT /v1/thing"])
    }

    @Test("openAPIOperations writes path parameters the OpenAPI way")
    func openAPIOperations() {
        #expect(Self.makeRouter().openAPIOperations == [
            "GET /healthz", "GET /v1/admin/peers/{id}", "GET /v1/admin/peers/count", "DELETE /v1/admin/peers/{id}",
            "GET /v1/ring/{epoch}/votes/{relay}", "POST /v1/fail", "POST /v1/conflict", "PUT /v1/thing",
        ])
    }

    @Test("header lookup is case-insensitive; unknown methods are 405")
    func headersAndMethods() {
        let router = HTTPRouter()
        router.get("/h") { request in .text(request.header("X-Custom") ?? "none") }
        #expect(text(router.handle(request(.get, "/h", headers: ["x-CUSTOM": "yes"]))) == "yes")
        #expect(router.handle(request(HTTPMethod(rawValue: "BREW"), "/h")).status == 405)
    }

    @Test("error envelope escapes JSON specials")
    func errorEscaping() {
        let body = ErrorBody.encode(HTTPError(400, "bad_request", "quote \" backslash \\ newline \n tab \t ctl \u{1} é"))
        #expect(String(decoding: body, as: UTF8.self)
            == #"{"error":{"code":"bad_request","message":"quote \" backslash \\ newline \n tab \t ctl \u0001 é"}}"#)
    }

    @Test("json(_:) sorts keys and leaves slashes alone")
    func jsonResponse() {
        struct Value: Encodable { let z = 1; let a = "/v1/x" }
        let response = HTTPResponse.json(Value(), status: 202)
        #expect(response.status == 202)
        #expect(text(response) == #"{"a":"/v1/x","z":1}"#)
    }
}
