public import SecIRCCrypto

/// A deposit queue this client gave one contact at one of its mailbox relays: 32 random bytes
/// the contact writes to instead of the mailbox ID (docs/PROTOCOL.md §4, Deposit queues). It
/// travels only inside the end-to-end session (in the contact card we send that contact), so
/// the network cannot link it to the invite's address or to another contact's queue; the
/// mailbox relay registers it for our mailbox and gives it a cap of its own.
public struct ContactQueue: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// Registered at the relay and named in the card the contact holds.
        case open
        /// Replaced by a newer queue (a rotation); still registered until `atMs`, so mail the
        /// contact sent before it learned the new one still arrives.
        case closing(atMs: Int64)
        /// Closed by the owner: not registered, and not made again for this contact until the
        /// owner rotates its queues (the contact reaches only the introduction address, slowly).
        case closed
    }

    public var contact: ID
    public var relayID: ID
    public var id: Bytes32
    public var createdMs: Int64
    public var state: State

    public init(contact: ID, relayID: ID, id: Bytes32, createdMs: Int64, state: State = .open) {
        self.contact = contact
        self.relayID = relayID
        self.id = id
        self.createdMs = createdMs
        self.state = state
    }

    /// Whether the relay should accept deposits to it at `nowMs`.
    public func isRegistered(nowMs: Int64) -> Bool {
        switch state {
        case .open: true
        case let .closing(atMs): nowMs < atMs
        case .closed: false
        }
    }
}
