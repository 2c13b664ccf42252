import SecIRCCore
import SecIRCCrypto

extension ClientEngine {
    /// One mailbox body: open the sealed packet, reassemble, hand the whole message to the
    /// messenger (which stores it), publish what it says, and answer with a receipt. False when
    /// the store could not take it (it must not be acknowledged to the relay).
    @discardableResult
    mutating func receiveBody(_ body: [UInt8], now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) -> Bool {
        status.packetsReceived += 1
        let fragment: Fragment
        do { fragment = try SealedPacket.open(body, with: messenger.identity.keys.agreement) } catch {
            // Loop cover packets come back as random bytes; anything else unreadable is counted too.
            status.coverPacketsReceived += 1
            return true
        }
        let message: [UInt8]
        do {
            guard let complete = try reassembler.add(fragment, now: now) else { return true }
            message = complete
        } catch {
            status.drop("bad_fragment")
            return true
        }
        let received = messenger.receive(message, now: now)
        if received.notStored {
            status.drop("not_stored")
            return false
        }
        if received.dropped != nil { status.drop("undecryptable") }
        for event in received.events { effects.events.append(.client(event)) }
        guard let (contact, ids) = received.receipt, let held = tracker.held else { return true }
        do {
            if let outgoing = try messenger.prepareReceipt(to: contact, ids: ids, now: now, rng: &rng) {
                try send(outgoing, held: held, freshLink: false, now: now, rng: &rng, effects: &effects)
            }
        } catch {
            status.drop("receipt_failed")
        }
        return true
    }
}
