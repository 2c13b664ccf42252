public import SecIRCNode

/// What can go wrong in the client, each with a message for the person at the front end: the
/// messenger's errors (`MessengerError`, in SecIRCNode), which the client's own parts (the
/// store, key files, the data directory) throw too. `ClientRoutes` maps them to HTTP statuses.
public typealias ClientError = MessengerError
