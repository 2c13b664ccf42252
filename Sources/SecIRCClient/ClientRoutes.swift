import Foundation
public import Logging
import SecIRCAPI
import SecIRCConfig
public import SecIRCCore
import SecIRCCrypto
public import SecIRCHTTP
public import SecIRCNode

/// The client's local HTTP API (openapi/client.yaml). Every route but `/healthz` needs the
/// bearer token from `<data-dir>/api.token`. Handlers run on libmicrohttpd's threads; they
/// read and write the store (one transaction each) and wake the network thread when
/// something was queued.
public struct ClientRoutes: Sendable {
    public let messenger: Messenger
    public let network: NetworkState
    public let events: ClientEvents
    public let settings: ClientSettings
    public let token: HTTPBearerToken
    public let clock: @Sendable () -> UnixTime
    public let poke: @Sendable () -> Void
    /// Storage failures are logged here (at error, without their details, which can name
    /// contacts; the details at debug).
    public let logger: Logger

    public init(messenger: Messenger, network: NetworkState, events: ClientEvents, settings: ClientSettings,
                token: HTTPBearerToken, clock: @escaping @Sendable () -> UnixTime, poke: @escaping @Sendable () -> Void,
                logger: Logger = Logger(label: "secirc.client.api")) {
        self.messenger = messenger
        self.network = network
        self.events = events
        self.settings = settings
        self.token = token
        self.clock = clock
        self.poke = poke
        self.logger = logger
    }

    public func router() -> HTTPRouter {
        let router = HTTPRouter()
        let auth = HTTPAuth.bearer(token)
        router.get("/healthz") { _ in .json(["status": "ok"]) }
        router.get("/v1/identity", auth: auth) { _ in identity() }
        router.get("/v1/invite", auth: auth) { _ in try mapped { try invite() } }
        router.post("/v1/invites", auth: auth) { _ in try mapped { try oneTimeInvite() } }
        router.get("/v1/contacts", auth: auth) { _ in try mapped { try contacts() } }
        router.post("/v1/contacts", auth: auth) { request in try mapped { try addContact(request) } }
        router.get("/v1/contacts/:id", auth: auth) { request in try mapped { try contact(request) } }
        router.put("/v1/contacts/:id", auth: auth) { request in try mapped { try rename(request) } }
        router.delete("/v1/contacts/:id", auth: auth) { request in try mapped { try removeContact(request) } }
        router.post("/v1/contacts/:id/accept", auth: auth) { request in try mapped { try acceptContact(request) } }
        router.post("/v1/contacts/:id/reject", auth: auth) { request in try mapped { try rejectContact(request) } }
        router.get("/v1/contacts/:id/queues", auth: auth) { request in try mapped { try queues(request) } }
        router.post("/v1/contacts/:id/queues/rotate", auth: auth) { request in try mapped { try rotateQueues(request) } }
        router.post("/v1/contacts/:id/queues/close", auth: auth) { request in try mapped { try closeQueues(request) } }
        router.get("/v1/conversations", auth: auth) { _ in try mapped { try conversations() } }
        router.get("/v1/conversations/:id/messages", auth: auth) { request in try mapped { try messages(request) } }
        router.post("/v1/conversations/:id/messages", auth: auth) { request in try mapped { try send(request) } }
        router.get("/v1/messages/:id", auth: auth) { request in try mapped { try message(request) } }
        router.get("/v1/network", auth: auth) { _ in try mapped { try networkState() } }
        router.get("/v1/events", auth: auth) { _ in .eventStream(events.subscribe()) }
        groupRoutes(router, auth: auth)
        return router
    }

    /// Client errors become their HTTP status (a storage failure 507, logged); anything else is a
    /// 500 without details.
    func mapped(_ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        do { return try body() } catch let error as HTTPError { throw error } catch let error as ClientError {
            switch error {
            case let .invalidInvite(m): throw HTTPError(422, "invalid_invite", m)
            case let .invalidRequest(m): throw HTTPError.invalidRequest(m)
            case let .notFound(m): throw HTTPError.notFound(m)
            case let .unknownContact(m): throw HTTPError(409, "unknown_contact", m)
            case let .conflict(m): throw HTTPError.conflict(m)
            case let .notReady(m): throw HTTPError.unavailable(m)
            case let .insufficientStorage(detail):
                logger.error("storage full: a request was refused with 507 and nothing was written; free space in the data directory")
                logger.debug("storage full", metadata: ["error": "\(detail)"])
                throw HTTPError.insufficientStorage(
                    "the client's disk is full: nothing was stored; free space in its data directory and retry")
            case let .storage(detail):
                logger.error("storage failed: a request was refused with 507; the database could not be read or written")
                logger.debug("storage failed", metadata: ["error": "\(detail)"])
                throw HTTPError.insufficientStorage(
                    "the client's storage failed (a disk error or a full disk): the request was not carried out; see the daemon's log")
            }
        } catch {
            throw HTTPError.internalError
        }
    }

    // MARK: Identity and invite

    private func identity() -> HTTPResponse {
        .json(Identity(id: messenger.identity.id.hex, identityKey: messenger.identity.signingKey.rawValue.hex))
    }

    private func invite() throws -> HTTPResponse {
        var rng = SystemRandom()
        let invite = try messenger.invite(now: clock(), rng: &rng)
        return .json(InviteResponse(uri: invite.uri, expiresMilliseconds: Int64(clamping: invite.expiry) * 1000,
                                    mailboxes: invite.mailboxes.map(Mailbox.init)))
    }

    /// A one-time invite: whoever answers it is a contact at once (the user invited them).
    private func oneTimeInvite() throws -> HTTPResponse {
        var rng = SystemRandom()
        let invite = try messenger.oneTimeInvite(now: clock(), rng: &rng)
        return .json(InviteResponse(uri: invite.uri, expiresMilliseconds: Int64(clamping: invite.expiry) * 1000,
                                    mailboxes: invite.mailboxes.map(Mailbox.init)), status: 201)
    }

    // MARK: Contacts

    private func contacts() throws -> HTTPResponse {
        .json(ContactList(contacts: try messenger.contacts().map(Contact.init)))
    }

    private func addContact(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try request.decodeJSON(AddContactRequest.self)
        try body.name.map(Self.checkName)
        var rng = SystemRandom()
        let record = try messenger.addContact(inviteURI: body.invite, name: body.name, now: clock(), rng: &rng)
        poke()
        return .json(Contact(record), status: 201)
    }

    private func contactID(_ request: HTTPRequest) throws -> ID {
        guard let text = request.pathParameters["id"], text.count == 64, let id = try? ID(hex: text.lowercased()) else {
            throw HTTPError.notFound("no contact \(request.pathParameters["id"]?.prefix(80) ?? "")")
        }
        return id
    }

    private func contact(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try contactID(request)
        guard let record = try messenger.contact(id: id) else { throw ClientError.notFound("no contact \(id.hex)") }
        return .json(Contact(record))
    }

    private func rename(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try contactID(request)
        let body = try request.decodeJSON(RenameContactRequest.self)
        try Self.checkName(body.name)
        return .json(Contact(try messenger.renameContact(id: id, to: body.name)))
    }

    /// A name as sent, before the messenger trims it (`DisplayName`): 1 to 64 Unicode scalars, no
    /// control or format character anywhere, white space alone refused. openapi/client.yaml's
    /// `NameRequest` pattern says the same, so the spec and the server refuse the same names.
    static func checkName(_ name: String) throws(HTTPError) {
        let scalars = name.unicodeScalars
        guard (1...DisplayName.maximumLength).contains(scalars.count),
              !scalars.contains(where: isControlOrFormat),
              scalars.contains(where: { !$0.properties.isWhitespace })
        else {
            throw .invalidRequest("a name is 1 to \(DisplayName.maximumLength) characters, not only white space, without control or format characters")
        }
    }

    static func isControlOrFormat(_ scalar: Unicode.Scalar) -> Bool {
        [.control, .format].contains(scalar.properties.generalCategory)
    }

    private func removeContact(_ request: HTTPRequest) throws -> HTTPResponse {
        try messenger.removeContact(id: contactID(request))
        poke() // its queues go: the relays are told at once
        return .noContent
    }

    /// A contact request accepted: announced as a contact, with the text messages it sent while
    /// it waited, in order; it gets its queues on the network thread's next turn.
    private func acceptContact(_ request: HTTPRequest) throws -> HTTPResponse {
        let (record, held) = try messenger.acceptContact(id: contactID(request))
        events.publish(.contact(record))
        for message in held { events.publish(.message(message)) }
        poke()
        return .json(Contact(record))
    }

    /// A contact request rejected: deleted with what it sent; its set-ups are refused from now on.
    private func rejectContact(_ request: HTTPRequest) throws -> HTTPResponse {
        try messenger.rejectContact(id: contactID(request), now: clock())
        return .noContent
    }

    // MARK: Deposit queues

    private func queues(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try contactID(request)
        guard try messenger.contact(id: id) != nil else { throw ClientError.notFound("no contact \(id.hex)") }
        return .json(DepositQueues(try messenger.queues(of: id)))
    }

    /// New queues for the contact, sent in a card; the old ones take mail for an hour more.
    private func rotateQueues(_ request: HTTPRequest) throws -> HTTPResponse {
        var rng = SystemRandom()
        let queues = try messenger.rotateQueues(of: contactID(request), now: clock(), rng: &rng)
        poke()
        return .json(DepositQueues(queues))
    }

    /// The relays stop taking the contact's deposits (until a rotation opens new queues).
    private func closeQueues(_ request: HTTPRequest) throws -> HTTPResponse {
        let queues = try messenger.closeQueues(of: contactID(request))
        poke()
        return .json(DepositQueues(queues))
    }

    // MARK: Conversations and messages

    private func conversations() throws -> HTTPResponse {
        let summaries = try messenger.conversationSummaries()
        let list = try messenger.contacts().filter { !$0.isRequest }.map { contact in
            Conversation(contact: Contact(contact), last: summaries[contact.id].map { Message($0.last) },
                         count: summaries[contact.id]?.count ?? 0)
        }
        return .json(ConversationList(conversations: list))
    }

    private func messages(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try contactID(request)
        guard try messenger.contact(id: id) != nil else { throw ClientError.notFound("no contact \(id.hex)") }
        let limit = try Self.integer(request.query["limit"], name: "limit", default: 50, range: 1...500)
        let before = try request.query["before"].map { try Self.integer($0, name: "before", default: 0, range: 1...Int64.max) }
        let page = try messenger.messages(with: id, before: before, limit: Int(limit))
        return .json(MessagePage(messages: page.messages.map(Message.init),
                                 nextBefore: page.more ? page.messages.first?.cursor : nil))
    }

    static func integer(_ text: String?, name: String, default value: Int64, range: ClosedRange<Int64>) throws -> Int64 {
        guard let text else { return value }
        guard let number = Int64(text), range.contains(number) else {
            throw HTTPError.invalidRequest("query parameter '\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    private func send(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try contactID(request)
        let body = try request.decodeJSON(SendTextRequest.self)
        var rng = SystemRandom()
        let record = try messenger.queueText(to: id, text: body.text, now: clock(), rng: &rng)
        poke()
        return .json(Message(record), status: 202)
    }

    private func message(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let text = request.pathParameters["id"], let id = try? MessageID(hex: text.lowercased()),
              let record = try messenger.message(id: id), record.kind == .text
        else { throw HTTPError.notFound("no message \(request.pathParameters["id"]?.prefix(80) ?? "")") }
        return .json(Message(record))
    }

    // MARK: Network

    private func networkState() throws -> HTTPResponse {
        let snapshot = network.snapshot
        let now = clock()
        let directory = snapshot.directory.map { d in
            NetworkStatus.Directory(serial: d.serial, validAfter: d.validAfter, validUntil: d.validUntil,
                                  ageSeconds: snapshot.fetchedAt.map { max(now.seconds - $0.seconds, 0) } ?? 0,
                                  relays: snapshot.descriptors.count, channel: snapshot.channel?.rawValue ?? "unknown",
                                  fetchedAt: snapshot.fetchedAt?.seconds ?? 0, rosterEpoch: snapshot.roster?.epoch ?? 0,
                                  ringMembers: snapshot.roster?.members.count ?? d.roster.members.count,
                                  ringThreshold: snapshot.roster?.threshold ?? d.roster.threshold)
        }
        return .json(NetworkStatus(
            directory: directory, mailboxes: messenger.mailboxes.map { Mailbox($0.address) },
            relays: snapshot.descriptors.map { NetworkStatus.Relay(id: $0.id.hex, udp: $0.udp, linked: snapshot.linked.contains($0.id)) },
            pathLength: settings.client.network.pathLength, coverTraffic: settings.client.network.coverProfile.rawValue,
            coverPacketsSent: snapshot.coverPacketsSent, packetsSent: snapshot.packetsSent,
            packetsReceived: snapshot.packetsReceived, coverPacketsReceived: snapshot.coverPacketsReceived,
            drops: snapshot.dropped, outbox: try messenger.outboxCount()))
    }
}
