public import SecIRCCore
public import SecIRCCrypto
public import SecIRCTransport

/// A node's whole behaviour as a state machine: it is given datagrams, HTTP answers, commands
/// and timer turns, each with the time and a source of randomness, and answers with effects
/// (``NodeEffects``). It owns no socket, no thread and no clock, so one loop per process drives
/// it over UDP (`SecIRCRuntime.NodeLoop`), and the simulator drives hundreds of them in one
/// process on virtual time.
public protocol NodeEngine: Sendable {
    /// Requests from outside the loop (an HTTP handler, an operator, a test).
    associatedtype Command: Sendable
    /// What a command answers.
    associatedtype Reply: Sendable
    /// What the engine reports to the rest of the process.
    associatedtype Event: Sendable

    /// Called once before anything else.
    mutating func start(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>)
    /// One datagram from `address`.
    mutating func receive(_ bytes: [UInt8], from address: SocketAddress, now: UnixTime, rng: inout some RandomSource,
                          effects: inout NodeEffects<Event>)
    /// The answer to one of the engine's ``FetchRequest``s.
    mutating func fetched(_ response: FetchResponse, now: UnixTime, rng: inout some RandomSource,
                          effects: inout NodeEffects<Event>)
    /// A command from outside; its reply goes back to whoever asked.
    mutating func handle(_ command: Command, now: UnixTime, rng: inout some RandomSource,
                         effects: inout NodeEffects<Event>) -> Reply
    /// Runs whatever is due at `now` (the loop calls it once `nextDeadline` has passed, and may
    /// call it at any other time).
    mutating func tick(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>)
    /// When `tick` next has something to do; nil for never (until an input arrives).
    var nextDeadline: UnixTime? { get }
}
