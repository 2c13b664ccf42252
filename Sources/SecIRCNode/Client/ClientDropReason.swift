/// Why the client's network engine dropped or gave up on something: the labels of
/// `GET /v1/network`'s `drops` besides the messenger's (``ReceiveDropReason``). Every drop a
/// front end can see has one; docs/PROTOCOL.md §9 gives the check behind each.
public enum ClientDropReason: String, Sendable, Hashable, CaseIterable {
    // Directory.
    /// A fetched directory failed verification, or was older than the one held.
    case directoryRefused = "directory_refused"
    /// A fetched directory did not continue the chain of the one held (§3.3).
    case directoryChainBroken = "directory_chain_broken"
    /// A pinned HTTPS directory source showed another public key.
    case directoryPinMismatch = "directory_pin_mismatch"
    /// An HTTPS directory source's certificate was refused.
    case directoryCertificateRefused = "directory_certificate_refused"
    /// A DNS directory source's name did not resolve.
    case directoryLookupFailed = "directory_lookup_failed"
    // Frames from relays.
    /// A link plaintext that is not a valid frame (wrong length, bad field).
    case malformedFrame = "malformed_frame"
    /// A frame that belongs to no fetch in progress, or of a kind a client does not take.
    case strayFrame = "stray_frame"
    // Mailbox fetches.
    /// A mailbox whose relay is not in the directory (not fetched).
    case mailboxRelayUnlisted = "mailbox_relay_unlisted"
    /// A fetch that could not be sent or was not done in time.
    case fetchFailed = "fetch_failed"
    /// A fetch answered with a status other than ok.
    case fetchRefused = "fetch_refused"
    /// A fetch whose batch did not all arrive: nothing new acknowledged.
    case fetchIncomplete = "fetch_incomplete"
    /// A fetch whose batch held a message the store did not take: nothing new acknowledged.
    case fetchNotStored = "fetch_not_stored"
    /// The relay's count of the mailbox's queues differed: they are registered anew.
    case queuesResynced = "queues_resynced"
    // Receiving.
    /// A sealed packet that opened but whose fragment broke its transfer (§7.4).
    case badFragment = "bad_fragment"
    /// An unfinished transfer dropped to make room in its reassembly room (§7.4), one count each.
    case transferEvicted = "transfer_evicted"
    /// An unfinished transfer whose first fragment came 600 s ago or more, one count each.
    case transferExpired = "transfer_expired"
    /// A whole message the store did not take (handed over again by the relay).
    case notStored = "not_stored"
    /// A message given up on after three failures to store it.
    case storeFailed = "store_failed"
    /// A whole multi-fragment message held unstored, evicted by newer ones (64 at most).
    case unstoredEvicted = "unstored_evicted"
    // Sending.
    /// A message or packet that could not be sent (no link, no path, the store failed), or a
    /// relay that did not answer a handshake in time.
    case sendFailed = "send_failed"
    /// A receipt that could not be made or sent.
    case receiptFailed = "receipt_failed"
    /// A cover packet that could not be made or sent.
    case coverFailed = "cover_failed"
    /// More real packets waited than the cover stream carries: sent at once, not paced.
    case pacingOverflow = "pacing_overflow"
}
