import SecIRCCore
import SecIRCCrypto

extension ClientEngine {
    /// What became of a mailbox body.
    enum BodyOutcome: Equatable {
        /// Used, or dropped for good reason (cover, a bad fragment, undecryptable): acknowledgeable.
        case taken
        /// The store could not take it: it must not be acknowledged to the relay.
        case notStored
        /// The store is full: not acknowledged either, and not held against the message.
        case storeFull
    }

    /// One mailbox body: open the sealed packet, reassemble, hand the whole message to the
    /// messenger (which stores it), publish what it says, and answer with a receipt.
    @discardableResult
    mutating func receiveBody(_ body: [UInt8], now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) -> BodyOutcome {
        status.packetsReceived += 1
        let fragment: Fragment
        do { fragment = try SealedPacket.open(body, with: messenger.identity.keys.agreement) } catch {
            // Loop cover packets come back as random bytes; anything else unreadable is counted too.
            status.coverPacketsReceived += 1
            return .taken
        }
        let message: [UInt8]
        if let held = unstored[fragment.transferID] {
            message = held
        } else {
            let evicted = reassembler.evictedTransfers
            defer { status.drop(.transferEvicted, count: reassembler.evictedTransfers - evicted) }
            do {
                guard let complete = try reassembler.add(fragment, room: messenger.reassemblyRoom(for: fragment), now: now) else {
                    return .taken
                }
                message = complete
            } catch {
                status.drop(.badFragment)
                return .taken
            }
        }
        let received = messenger.receive(message, now: now)
        if received.notStored {
            status.drop(.notStored)
            if fragment.count > 1 { holdUnstored(message, transfer: fragment.transferID) }
            return received.storeFull ? .storeFull : .notStored
        }
        if unstored.removeValue(forKey: fragment.transferID) != nil {
            unstoredOrder.removeAll { $0 == fragment.transferID }
        }
        if let label = received.label {
            // Every refusal says why: a counter per reason and an info log line (no identities).
            status.drop(label)
            effects.events.append(.refused(label.rawValue))
        }
        for event in received.events {
            if case .contact = event { queuesDue = true } // a new contact or session: its queues
            effects.events.append(.client(event))
        }
        guard let (contact, ids) = received.receipt, let held = tracker.held else { return .taken }
        acknowledge(ids, to: contact, held: held, now: now, rng: &rng, effects: &effects)
        return .taken
    }

    /// Keeps a whole message the store could not take until the relay hands its last fragment
    /// over again (the fragments before it were acknowledged and are gone from the relay).
    private mutating func holdUnstored(_ message: [UInt8], transfer: MessageID) {
        if unstored[transfer] == nil {
            unstoredOrder.append(transfer)
            if unstoredOrder.count > Self.maxUnstored {
                unstored[unstoredOrder.removeFirst()] = nil
                status.drop(.unstoredEvicted)
            }
        }
        unstored[transfer] = message
    }
}
