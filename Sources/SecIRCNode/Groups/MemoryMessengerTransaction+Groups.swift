import SecIRCCore
import SecIRCCrypto

// Groups in the in-memory store: each change logs its undo step, like the rest.
extension MemoryMessengerTransaction {
    func groups() throws -> [GroupRecord] {
        readable()
        return state.groups.values.sorted { ($0.joinedMs, $0.id) < ($1.joinedMs, $1.id) }
    }

    func group(id: ID) throws -> GroupRecord? {
        readable()
        return state.groups[id]
    }

    func groupState(_ group: ID) throws -> [[UInt8]: [UInt8]] {
        readable()
        return state.groupStates[group] ?? [:]
    }

    func groupInvitations() throws -> [GroupInvitationRecord] {
        readable()
        return state.groupInvitations.values.sorted { ($0.receivedMs, $0.group) < ($1.receivedMs, $1.group) }
    }

    func groupMessages(in group: ID, before: Int64?, limit: Int) throws -> GroupMessagePage {
        readable()
        let all = state.groupMessages[group] ?? []
        var end = all.count
        if let before {
            guard let anchor = all.firstIndex(where: { $0.cursor == before }) else { return GroupMessagePage(messages: [], more: false) }
            end = anchor
        }
        let start = max(end - max(limit, 0), 0)
        return GroupMessagePage(messages: Array(all[start..<end]), more: start > 0)
    }

    func groupMessage(cursor: Int64) throws -> GroupMessageRecord? {
        readable()
        guard let group = state.groupMessageGroup[cursor] else { return nil }
        return state.groupMessages[group]?.first { $0.cursor == cursor }
    }

    func groupDeposits() throws -> [GroupDepositRecord] {
        readable()
        return state.groupDeposits.values.sorted { $0.cursor < $1.cursor }
    }

    func groupDeposits(withBody body: [UInt8]) throws -> [GroupDepositRecord] {
        readable()
        return state.groupDeposits.values.filter { $0.body == body }.sorted { $0.cursor < $1.cursor }
    }

    func groupDeposits(dueByMs ms: Int64, limit: Int) throws -> [GroupDepositRecord] {
        readable()
        return Array(state.groupDeposits.values.filter { $0.nextAttemptMs <= ms }.sorted { $0.cursor < $1.cursor }.prefix(max(limit, 0)))
    }

    func groupDepositKeys() throws -> [GroupDepositKey] {
        readable()
        return state.groupDeposits.values.sorted { $0.cursor < $1.cursor }.map { GroupDepositKey(key: $0.key, nextAttemptMs: $0.nextAttemptMs) }
    }

    func setGroup(_ record: GroupRecord) throws {
        changing()
        let old = state.groups[record.id]
        undo.append { $0.groups[record.id] = old }
        state.groups[record.id] = record
    }

    func changeGroupState(_ group: ID, _ change: GroupSession.StateChange) throws {
        changing()
        guard state.groups[group] != nil else { throw MessengerError.notFound("no group \(group.hex)") }
        if change.isWhole {
            let old = state.groupStates[group]
            undo.append { $0.groupStates[group] = old }
            state.groupStates[group] = change.written
            return
        }
        // In place, with an undo step per part touched: a copy of every part per change would
        // cost as much as the whole state this layout avoids writing.
        let touched = change.removed + Array(change.written.keys)
        let old = touched.map { (key: $0, part: state.groupStates[group]?[$0]) }
        undo.append { state in for (key, part) in old { state.groupStates[group]?[key] = part } }
        for key in change.removed { state.groupStates[group]?[key] = nil }
        for (key, part) in change.written { state.groupStates[group, default: [:]][key] = part }
    }

    func deleteGroup(_ id: ID) throws -> Bool {
        changing()
        guard let old = state.groups[id] else { return false }
        let parts = state.groupStates[id]
        let messages = state.groupMessages[id]
        let deposits = state.groupDeposits.filter { $0.value.group == id }
        undo.append { state in
            state.groups[id] = old
            state.groupStates[id] = parts
            state.groupMessages[id] = messages
            for message in messages ?? [] { state.groupMessageGroup[message.cursor] = id }
            state.groupDeposits.merge(deposits) { $1 }
        }
        state.groups[id] = nil
        state.groupStates[id] = nil
        for message in messages ?? [] { state.groupMessageGroup[message.cursor] = nil }
        state.groupMessages[id] = nil
        for cursor in deposits.keys { state.groupDeposits[cursor] = nil }
        return true
    }

    func setGroupInvitation(_ record: GroupInvitationRecord) throws {
        changing()
        let old = state.groupInvitations[record.group]
        undo.append { $0.groupInvitations[record.group] = old }
        state.groupInvitations[record.group] = record
    }

    func deleteGroupInvitation(_ group: ID) throws -> Bool {
        changing()
        guard let old = state.groupInvitations[group] else { return false }
        undo.append { $0.groupInvitations[group] = old }
        state.groupInvitations[group] = nil
        return true
    }

    func insertGroupMessage(group: ID, id: MessageID, lamport: UInt64, senderKey: SigningPublicKey, sequence: UInt64,
                            kind: EnvelopeKind, timestampMs: Int64, body: [UInt8], outgoing: Bool) throws -> GroupMessageRecord {
        changing()
        guard state.groups[group] != nil else { throw MessengerError.notFound("no group \(group.hex)") }
        let lastCursor = state.lastCursor
        let record = GroupMessageRecord(cursor: lastCursor + 1, group: group, id: id, lamport: lamport, senderKey: senderKey,
                                        sequence: sequence, kind: kind, timestampMs: timestampMs, body: body, outgoing: outgoing)
        undo.append { state in
            state.lastCursor = lastCursor
            state.groupMessageGroup[record.cursor] = nil
            state.groupMessages[group]?.removeAll { $0.cursor == record.cursor }
        }
        state.lastCursor = record.cursor
        state.groupMessageGroup[record.cursor] = group
        var list = state.groupMessages[group] ?? []
        list.insert(record, at: Self.insertionIndex(of: record.position, in: list))
        state.groupMessages[group] = list
        return record
    }

    func insertGroupDeposit(group: ID, mailbox: Bytes32, body: [UInt8], nextAttemptMs: Int64) throws -> Int64 {
        changing()
        guard state.groups[group] != nil else { throw MessengerError.notFound("no group \(group.hex)") }
        let lastCursor = state.lastCursor
        let cursor = lastCursor + 1
        undo.append { state in
            state.lastCursor = lastCursor
            state.groupDeposits[cursor] = nil
        }
        state.lastCursor = cursor
        state.groupDeposits[cursor] = GroupDepositRecord(cursor: cursor, group: group, mailbox: mailbox, body: body, confirmed: [],
                                                         attempts: 0, nextAttemptMs: nextAttemptMs)
        return cursor
    }

    func updateGroupDeposit(_ record: GroupDepositRecord) throws {
        changing()
        guard let old = state.groupDeposits[record.cursor] else { return }
        undo.append { $0.groupDeposits[record.cursor] = old }
        var updated = old
        updated.confirmed = record.confirmed
        updated.attempts = record.attempts
        updated.nextAttemptMs = record.nextAttemptMs
        state.groupDeposits[record.cursor] = updated
    }

    func deleteGroupDeposit(cursor: Int64) throws {
        changing()
        guard let old = state.groupDeposits[cursor] else { return }
        undo.append { $0.groupDeposits[cursor] = old }
        state.groupDeposits[cursor] = nil
    }

    /// Where a post at `position` goes in a list in display order (after equal positions).
    private static func insertionIndex(of position: GroupTimeline.Position, in list: [GroupMessageRecord]) -> Int {
        var low = 0
        var high = list.count
        while low < high {
            let mid = (low + high) / 2
            if position < list[mid].position { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
