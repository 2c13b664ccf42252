import SecIRCCore
import SecIRCCrypto

extension ClientEngine {
    /// One mailbox body: open the sealed packet, reassemble, hand the whole message to the
    /// messenger (which stores it), publish what it says, and answer with a receipt.
    mutating func receiveBody(_ body: [UInt8], now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        status.packetsReceived += 1
        let fragment: Fragment
        do { fragment = try SealedPacket.open(body, with: messenger.identity.keys.agreement) } catch {
            // Loop cover packets come back as random bytes; anything else unreadable is counted too.
            status.coverPacketsReceived += 1
            return
        }
        let message: [UInt8]
        do {
            guard let complete = try reassembler.add(fragment, now: now) else { return }
            message = complete
        } catch {
            return status.drop("bad_fragment")
        }
        let received = messenger.receive(message, now: now)
        if received.dropped != nil { status.drop("undecryptable") }
        for event in received.events { effects.events.append(.client(event)) }
        guard let (contact, ids) = received.receipt, let held = tracker.held else { return }
        do {
            if let outgoing = try messenger.prepareReceipt(to: contact, ids: ids, now: now, rng: &rng) {
                try send(outgoing, held: held, freshLink: false, now: now, rng: &rng, effects: &effects)
            }
        } catch {
            status.drop("receipt_failed")
        }
    }
}
