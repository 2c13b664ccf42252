public import SecIRCCrypto
public import SecIRCCore

/// End-to-end encrypted mail held in memory for offline users, bounded in every direction and by
/// age; what does not fit is dropped and counted, never queued without bound. Nothing here is
/// ever written to disk. docs/PROTOCOL.md §4 (Deposit queues) is the contract.
///
/// **Mailboxes and queues.** A mailbox is known (live) once its owner fetched it; each fetch
/// renews it, and it is forgotten when it has been empty and unfetched for the TTL (or, at the
/// mailbox limit, when it is among the longest-unfetched empty ones). Deposits are addressed to
/// one of its *queues*: the mailbox ID itself is the introduction queue (the address invites
/// carry: anyone may write there, slowly — a rate and a small cap), and the owner registers one
/// random queue ID per contact (``register(_:now:)``, ``apply(_:to:)``), each with a cap of its
/// own, so a contact that floods its queue fills that queue alone.
///
/// **Unclaimed deposits.** A deposit to an address that names no live mailbox or queue (junk, or
/// mail that arrives before its owner's first fetch after a restart of this relay) is held a
/// short while (`unclaimed.ttl`), bounded per incoming link and in all; a registration that names
/// its address claims it. Junk therefore never holds the store for the mail TTL.
///
/// **Group mailboxes.** A mailbox registered as a group's (``register(_:group:now:)``) is fetched
/// by every member with the one group mailbox key: deposits to its ID are stored without a rate
/// (up to ``Limits/maxMessagesPerGroup``), a fetch takes a cursor (``fetch(_:after:limit:)``)
/// and deletes nothing — the mail stays for the TTL — and it registers no queues.
///
/// **Delivery** is at least once: `fetch` returns messages with increasing sequence numbers and
/// deletes only those the owner acknowledges (`ackThrough`) on its next fetch. Sequence numbers
/// come from one store-wide counter that starts at `firstSequence` (the relay passes its start
/// time in microseconds), so a number is never reused — not after a mailbox empties, nor after
/// a restart — and a late acknowledgement can never delete mail its owner has not seen.
/// Not thread-safe: the relay engine owns it.
public struct MailboxStore: Sendable {
    public struct Limits: Sendable, Equatable {
        /// How long mail is held, and how long an empty, unfetched mailbox stays known.
        public var ttl: Duration
        /// Messages one contact queue may hold.
        public var maxMessagesPerQueue: Int
        /// Messages one group mailbox may hold (they stay for the TTL: members fetch by cursor).
        public var maxMessagesPerGroup: Int
        /// Contact queues one mailbox may register, and all mailboxes together.
        public var maxQueuesPerMailbox: Int
        public var maxQueues: Int
        public var maxMailboxes: Int
        public var maxTotalBytes: Int
        public var intro: Intro
        public var unclaimed: Unclaimed

        public init(ttl: Duration, maxMessagesPerQueue: Int, maxMessagesPerGroup: Int = 10_000, maxQueuesPerMailbox: Int = 1_024,
                    maxQueues: Int = 1_000_000, maxMailboxes: Int, maxTotalBytes: Int, intro: Intro = Intro(),
                    unclaimed: Unclaimed = Unclaimed()) {
            self.ttl = ttl
            self.maxMessagesPerQueue = maxMessagesPerQueue
            self.maxMessagesPerGroup = maxMessagesPerGroup
            self.maxQueuesPerMailbox = maxQueuesPerMailbox
            self.maxQueues = maxQueues
            self.maxMailboxes = maxMailboxes
            self.maxTotalBytes = maxTotalBytes
            self.intro = intro
            self.unclaimed = unclaimed
        }
    }

    /// The introduction queue (the mailbox ID, written in invites): a cap, and a rate per mailbox
    /// (GCRA: `perMinute` on average, `burst` at once).
    public struct Intro: Sendable, Equatable {
        public var maxMessages: Int
        public var perMinute: Int
        public var burst: Int
        public init(maxMessages: Int = 128, perMinute: Int = 60, burst: Int = 32) {
            self.maxMessages = maxMessages
            self.perMinute = perMinute
            self.burst = burst
        }
    }

    /// Deposits that name no live mailbox or queue.
    public struct Unclaimed: Sendable, Equatable {
        public var ttl: Duration
        public var perLink: Int
        public var total: Int
        public init(ttl: Duration = .seconds(120), perLink: Int = 64, total: Int = 4_096) {
            self.ttl = ttl
            self.perLink = perLink
            self.total = total
        }
    }

    /// Why a message was dropped (metrics label `mailbox_drops_total{reason}`).
    public enum DropReason: String, Sendable, CaseIterable {
        /// The contact queue holds `maxMessagesPerQueue`.
        case queueFull = "contact_queue_full"
        /// The introduction queue holds `intro.maxMessages`.
        case introFull = "intro_full"
        /// The group mailbox holds `maxMessagesPerGroup`.
        case groupFull = "group_mailbox_full"
        /// The introduction queue's rate was spent.
        case introRate = "intro_rate"
        /// A new mailbox when `maxMailboxes` are known and none can be forgotten.
        case tooManyMailboxes = "too_many_mailboxes"
        case storeFull = "store_full"
        /// Mail older than the TTL.
        case expired
        /// An unclaimed deposit over its incoming link's bound.
        case unclaimedLink = "unclaimed_link"
        /// An unclaimed deposit when `unclaimed.total` are held.
        case unclaimedFull = "unclaimed_full"
        /// An unclaimed deposit nobody claimed within `unclaimed.ttl`.
        case unclaimedExpired = "unclaimed_expired"
    }

    /// Why a queue op was not applied (counted by the caller).
    public enum QueueRefusal: String, Sendable, CaseIterable {
        /// The mailbox holds `maxQueuesPerMailbox`, or the store `maxQueues`.
        case queueLimit = "queue_limit"
        /// Another mailbox registered that queue ID first.
        case queueTaken = "queue_taken"
    }

    /// What happened to a deposit.
    public enum Deposit: Sendable, Equatable {
        /// Stored in this mailbox (push it to a subscriber).
        case stored(mailbox: Bytes32)
        /// Held as unclaimed.
        case held
        case dropped(DropReason)
    }

    public struct Message: Sendable, Equatable {
        public var sequence: UInt64
        public var body: [UInt8]
        public var expires: UnixTime
        /// The queue it came to (the mailbox ID for the introduction queue).
        public var queue: Bytes32
    }

    private struct Box {
        var messages: [Message] = []
        /// Messages held per queue (the introduction queue under the mailbox ID).
        var held: [Bytes32: Int] = [:]
        var queues: Set<Bytes32> = []
        var introTAT: UnixTime
        var lastFetch: UnixTime
        /// Registered as a group mailbox: fetched by cursor, nothing deleted by a fetch.
        var isGroup = false
    }

    private struct Pending {
        var body: [UInt8]
        var expires: UnixTime
        var link: IncomingLink
    }

    public let limits: Limits
    private var boxes: [Bytes32: Box] = [:]
    private var queueOwner: [Bytes32: Bytes32] = [:]
    private var unclaimed: [Bytes32: [Pending]] = [:]
    private var unclaimedPerLink: [IncomingLink: Int] = [:]
    public private(set) var unclaimedCount = 0
    public private(set) var totalBytes = 0
    public private(set) var messageCount = 0
    /// Empty mailboxes forgotten at the mailbox limit to make room for new ones.
    public private(set) var evicted = 0
    /// Claimed deposits dropped, not yet taken by ``takeClaimDrops()``.
    private var claimDrops: [DropReason: Int] = [:]

    private var nextSequence: UInt64

    public init(limits: Limits, firstSequence: UInt64 = 1) {
        self.limits = limits
        nextSequence = max(firstSequence, 1)
    }

    public var mailboxCount: Int { boxes.count }

    /// How full the store is, in percent rounded down to a multiple of 10 (0...100): the larger
    /// of its bytes and its mailboxes against their limits. A relay publishes it in its
    /// descriptor (`load`) so clients open fewer new mailboxes at a full one.
    public var loadPercent: Int {
        let bytes = limits.maxTotalBytes > 0 ? Double(totalBytes) / Double(limits.maxTotalBytes) : 0
        let mailboxes = limits.maxMailboxes > 0 ? Double(boxes.count) / Double(limits.maxMailboxes) : 0
        return min(100, Int(max(bytes, mailboxes) * 10) * 10)
    }
    /// Whether the owner of `mailbox` fetched it (and it was not forgotten since).
    public func isKnown(_ mailbox: Bytes32) -> Bool { boxes[mailbox] != nil }
    /// Whether `id` is registered as a contact queue (of some mailbox).
    public func isQueue(_ id: Bytes32) -> Bool { queueOwner[id] != nil }
    /// Whether `mailbox` is known as a group mailbox (false when unknown).
    public func isGroup(_ mailbox: Bytes32) -> Bool { boxes[mailbox]?.isGroup == true }
    /// Contact queues registered, in all.
    public var queueCount: Int { queueOwner.count }

    // MARK: Deposits

    /// Stores `body`, deposited to `address` (a queue ID or a mailbox ID) from `link`.
    public mutating func deliver(_ body: [UInt8], to address: Bytes32, from link: IncomingLink, now: UnixTime) -> Deposit {
        if let mailbox = queueOwner[address] {
            return store(body, in: mailbox, queue: address, now: now)
        }
        if let box = boxes[address], box.isGroup {
            return store(body, in: address, queue: address, now: now)
        }
        if var box = boxes[address] {
            let interval = Duration.seconds(60) / max(limits.intro.perMinute, 1)
            let tat = max(box.introTAT, now).adding(interval)
            guard tat.duration(since: now) <= interval * max(limits.intro.burst, 1) else { return .dropped(.introRate) }
            box.introTAT = tat
            boxes[address] = box
            return store(body, in: address, queue: address, now: now)
        }
        guard unclaimedPerLink[link, default: 0] < limits.unclaimed.perLink else { return .dropped(.unclaimedLink) }
        guard unclaimedCount < limits.unclaimed.total else { return .dropped(.unclaimedFull) }
        guard totalBytes + body.count <= limits.maxTotalBytes else { return .dropped(.storeFull) }
        unclaimed[address, default: []].append(Pending(body: body, expires: now.adding(limits.unclaimed.ttl), link: link))
        unclaimedPerLink[link, default: 0] += 1
        unclaimedCount += 1
        totalBytes += body.count
        return .held
    }

    private mutating func store(_ body: [UInt8], in mailbox: Bytes32, queue: Bytes32, now: UnixTime) -> Deposit {
        guard var box = boxes[mailbox] else { return .dropped(.tooManyMailboxes) }
        let isIntro = queue == mailbox
        let (cap, full): (Int, DropReason) = box.isGroup ? (limits.maxMessagesPerGroup, .groupFull)
            : isIntro ? (limits.intro.maxMessages, .introFull) : (limits.maxMessagesPerQueue, .queueFull)
        guard box.held[queue, default: 0] < cap else { return .dropped(full) }
        guard totalBytes + body.count <= limits.maxTotalBytes else { return .dropped(.storeFull) }
        box.messages.append(Message(sequence: nextSequence, body: body, expires: now.adding(limits.ttl), queue: queue))
        box.held[queue, default: 0] += 1
        nextSequence += 1
        boxes[mailbox] = box
        totalBytes += body.count
        messageCount += 1
        return .stored(mailbox: mailbox)
    }

    // MARK: The owner

    /// The owner of `mailbox` proved itself (a verified fetch): the mailbox is known from now on
    /// (unclaimed mail to its ID is claimed) and renewed. False when it is new and the store
    /// knows `maxMailboxes` already, none of them empty. `group` is the kind a new mailbox gets
    /// (the caller refuses a fetch of a known mailbox as the other kind: ``isGroup(_:)``).
    public mutating func register(_ mailbox: Bytes32, group: Bool = false, now: UnixTime) -> Bool {
        if var box = boxes[mailbox] {
            box.lastFetch = now
            boxes[mailbox] = box
            return true
        }
        // An ID registered as a queue is not a mailbox too (deposits to it go to the queue).
        guard queueOwner[mailbox] == nil else { return false }
        if boxes.count >= limits.maxMailboxes { evictIdleMailboxes() }
        guard boxes.count < limits.maxMailboxes else { return false }
        boxes[mailbox] = Box(introTAT: now, lastFetch: now, isGroup: group)
        claim(mailbox, into: mailbox, now: now)
        return true
    }

    /// Applies the owner's queue ops (in order) to a registered mailbox; returns the refusals.
    /// A group mailbox registers no queues: each op is refused (`queueLimit`).
    public mutating func apply(_ ops: [QueueOp], to mailbox: Bytes32, now: UnixTime) -> [QueueRefusal] {
        guard let box = boxes[mailbox] else { return [] }
        guard !box.isGroup else { return ops.map { _ in .queueLimit } }
        var refusals: [QueueRefusal] = []
        for op in ops {
            switch op {
            case let .add(queue):
                guard queue != mailbox, boxes[mailbox]?.queues.contains(queue) == false else { continue }
                if queueOwner[queue] != nil || boxes[queue] != nil {
                    refusals.append(.queueTaken)
                    continue
                }
                guard boxes[mailbox]!.queues.count < limits.maxQueuesPerMailbox, queueOwner.count < limits.maxQueues else {
                    refusals.append(.queueLimit)
                    continue
                }
                boxes[mailbox]!.queues.insert(queue)
                queueOwner[queue] = mailbox
                claim(queue, into: mailbox, now: now)
            case let .close(queue):
                guard queueOwner[queue] == mailbox else { continue }
                queueOwner[queue] = nil
                boxes[mailbox]!.queues.remove(queue)
            case .clear:
                for queue in boxes[mailbox]!.queues { queueOwner[queue] = nil }
                boxes[mailbox]!.queues = []
            }
        }
        return refusals
    }

    /// Contact queues `mailbox` has registered.
    public func queues(of mailbox: Bytes32) -> Int { boxes[mailbox]?.queues.count ?? 0 }

    /// Deletes the messages of `mailbox` up to `ackThrough`, then returns up to `limit` of the
    /// rest (oldest first) and how many remain after those.
    public mutating func fetch(_ mailbox: Bytes32, ackThrough: UInt64, limit: Int) -> (messages: [Message], remaining: Int) {
        guard var box = boxes[mailbox] else { return ([], 0) }
        let acknowledged = box.messages.prefix { $0.sequence <= ackThrough }
        remove(acknowledged.count, from: &box)
        let batch = Array(box.messages.prefix(limit))
        boxes[mailbox] = box
        return (batch, box.messages.count - batch.count)
    }

    /// A group mailbox's messages after sequence `after` (none deleted: they stay for the TTL),
    /// up to `limit`, oldest first, and how many more there are after those.
    public func fetch(_ mailbox: Bytes32, after: UInt64, limit: Int) -> (messages: [Message], remaining: Int) {
        guard let box = boxes[mailbox] else { return ([], 0) }
        // Sequences increase along `messages`: find the first after the cursor by bisection.
        var low = 0, high = box.messages.count
        while low < high {
            let middle = (low + high) / 2
            if box.messages[middle].sequence <= after { low = middle + 1 } else { high = middle }
        }
        let batch = Array(box.messages[low..<min(low + limit, box.messages.count)])
        return (batch, box.messages.count - low - batch.count)
    }

    // MARK: Time

    /// Drops mail older than the TTL (counted as `expired`) and unclaimed deposits older than
    /// theirs (`unclaimedExpired`), and forgets empty mailboxes unfetched for the TTL.
    public mutating func expire(now: UnixTime) -> [DropReason: Int] {
        var dropped: [DropReason: Int] = [:]
        for (id, var box) in boxes {
            let old = box.messages.prefix { $0.expires <= now }.count
            if old > 0 {
                remove(old, from: &box)
                dropped[.expired, default: 0] += old
            }
            if box.messages.isEmpty, now >= box.lastFetch.adding(limits.ttl) {
                forget(id)
            } else if old > 0 {
                boxes[id] = box
            }
        }
        for (address, pending) in unclaimed {
            let kept = pending.filter { $0.expires > now }
            guard kept.count < pending.count else { continue }
            for gone in pending where gone.expires <= now { release(gone) }
            dropped[.unclaimedExpired, default: 0] += pending.count - kept.count
            unclaimed[address] = kept.isEmpty ? nil : kept
        }
        return dropped
    }

    /// The newest message of `mailbox` (the one just delivered, for push delivery).
    public func newest(in mailbox: Bytes32) -> Message? { boxes[mailbox]?.messages.last }

    /// Messages waiting in `mailbox`.
    public func depth(of mailbox: Bytes32) -> Int { boxes[mailbox]?.messages.count ?? 0 }

    // MARK: Private

    /// Moves unclaimed deposits to `address` into `mailbox`, under the queue's cap (no rate: they
    /// were bounded when they came); those over it are dropped and counted (``takeClaimDrops()``).
    private mutating func claim(_ address: Bytes32, into mailbox: Bytes32, now: UnixTime) {
        guard let pending = unclaimed.removeValue(forKey: address) else { return }
        for deposit in pending {
            release(deposit)
            if case let .dropped(reason) = store(deposit.body, in: mailbox, queue: address, now: now) {
                claimDrops[reason, default: 0] += 1
            }
        }
    }

    /// Unclaimed deposits a registration or a new queue claimed but could not keep (over the
    /// queue's cap, or the store full), since the last call: the caller counts them.
    public mutating func takeClaimDrops() -> [DropReason: Int] {
        defer { claimDrops = [:] }
        return claimDrops
    }

    private mutating func release(_ deposit: Pending) {
        unclaimedCount -= 1
        totalBytes -= deposit.body.count
        let left = unclaimedPerLink[deposit.link, default: 1] - 1
        unclaimedPerLink[deposit.link] = left > 0 ? left : nil
    }

    /// At the mailbox limit: forgets the hundredth of the empty mailboxes that were fetched
    /// longest ago (at least one), so that registrations nobody renews cannot keep new owners out
    /// while mail is never dropped for it. Their queues go with them; an owner that comes back
    /// registers again.
    private mutating func evictIdleMailboxes() {
        let idle = boxes.filter { $0.value.messages.isEmpty }.map { ($0.key, $0.value.lastFetch) }
        guard !idle.isEmpty else { return }
        let oldest = idle.sorted { $0.1 < $1.1 }.prefix(max(1, idle.count / 100))
        for (id, _) in oldest { forget(id) }
        evicted += oldest.count
    }

    private mutating func forget(_ mailbox: Bytes32) {
        guard let box = boxes.removeValue(forKey: mailbox) else { return }
        for queue in box.queues { queueOwner[queue] = nil }
    }

    private mutating func remove(_ count: Int, from box: inout Box) {
        guard count > 0 else { return }
        var bytes = 0
        for message in box.messages.prefix(count) {
            bytes += message.body.count
            let left = box.held[message.queue, default: 1] - 1
            box.held[message.queue] = left > 0 ? left : nil
        }
        box.messages.removeFirst(count)
        totalBytes -= bytes
        messageCount -= count
    }
}
