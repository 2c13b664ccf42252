import Foundation
import GRDB
import SecIRCCore
import SecIRCCrypto
import SecIRCNode

// Groups on disk (migrations v4, v5): state parts and invitations sealed with the storage key,
// post bodies sealed like message bodies; names, member keys and times in the clear for listing.
extension SQLiteMessengerTransaction {
    private static let groupColumns = "id, name, joined_ms, is_member, state_tag"

    private func group(_ row: Row) throws -> GroupRecord {
        GroupRecord(id: try ID(hex: row["id"]), name: row["name"], joinedMs: row["joined_ms"], isMember: row["is_member"],
                    stateTag: UInt64(bitPattern: row["state_tag"]))
    }

    /// Each part sealed for its group and key (the empty key: a version-1 state sealed whole by v4).
    private static func purpose(_ group: ID, part: [UInt8]) -> String {
        part.isEmpty ? "group \(group.hex)" : "group \(group.hex) part \(Hex.encode(part))"
    }

    func groups() throws -> [GroupRecord] {
        try op { try Row.fetchAll(statement("SELECT \(Self.groupColumns) FROM groups ORDER BY joined_ms, id")).map(group) }
    }

    func group(id: ID) throws -> GroupRecord? {
        try op { try Row.fetchOne(statement("SELECT \(Self.groupColumns) FROM groups WHERE id = ?"), arguments: [id.hex]).map(group) }
    }

    func setGroup(_ record: GroupRecord) throws {
        try op {
            try execute(sql: """
                INSERT INTO groups (id, name, joined_ms, is_member, state_tag) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, joined_ms = excluded.joined_ms,
                    is_member = excluded.is_member, state_tag = excluded.state_tag
                """, arguments: [record.id.hex, record.name, record.joinedMs, record.isMember, Int64(bitPattern: record.stateTag)])
        }
    }

    func groupState(_ group: ID) throws -> [[UInt8]: [UInt8]] {
        try op {
            var parts: [[UInt8]: [UInt8]] = [:]
            for row in try Row.fetchAll(statement("SELECT part, state FROM group_state WHERE group_id = ?"), arguments: [group.hex]) {
                let part = Array(row["part"] as Data)
                parts[part] = try sealer.open(row["state"], purpose: Self.purpose(group, part: part))
            }
            return parts
        }
    }

    func changeGroupState(_ group: ID, _ change: GroupSession.StateChange) throws {
        try op {
            guard try Int.fetchOne(statement("SELECT 1 FROM groups WHERE id = ?"), arguments: [group.hex]) != nil else {
                throw ClientError.notFound("no group \(group.hex)")
            }
            if change.isWhole { try execute(sql: "DELETE FROM group_state WHERE group_id = ?", arguments: [group.hex]) }
            for part in change.removed {
                try execute(sql: "DELETE FROM group_state WHERE group_id = ? AND part = ?", arguments: [group.hex, Data(part)])
            }
            for (part, state) in change.written {
                try execute(sql: "INSERT OR REPLACE INTO group_state (group_id, part, state) VALUES (?, ?, ?)",
                            arguments: [group.hex, Data(part), sealer.seal(state, purpose: Self.purpose(group, part: part))])
            }
        }
    }

    func deleteGroup(_ id: ID) throws -> Bool {
        try op {
            try execute(sql: "DELETE FROM groups WHERE id = ?", arguments: [id.hex])
            return db.changesCount > 0
        }
    }

    // MARK: Invitations

    func groupInvitations() throws -> [GroupInvitationRecord] {
        try op {
            try Row.fetchAll(statement("""
                SELECT group_id, from_contact, name, member_count, received_ms, invitation FROM group_invitations
                ORDER BY received_ms, group_id
                """)).map { row in
                let group = try ID(hex: row["group_id"])
                return GroupInvitationRecord(group: group, from: try ID(hex: row["from_contact"]), name: row["name"],
                                             memberCount: row["member_count"], receivedMs: row["received_ms"],
                                             invitation: try sealer.open(row["invitation"], purpose: "group invitation \(group.hex)"))
            }
        }
    }

    func setGroupInvitation(_ record: GroupInvitationRecord) throws {
        try op {
            try execute(sql: """
                INSERT OR REPLACE INTO group_invitations (group_id, from_contact, name, member_count, received_ms, invitation)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [record.group.hex, record.from.hex, record.name, record.memberCount, record.receivedMs,
                                 sealer.seal(record.invitation, purpose: "group invitation \(record.group.hex)")])
        }
    }

    func deleteGroupInvitation(_ group: ID) throws -> Bool {
        try op {
            try execute(sql: "DELETE FROM group_invitations WHERE group_id = ?", arguments: [group.hex])
            return db.changesCount > 0
        }
    }

    // MARK: Posts

    private static let groupMessageColumns = "cursor, group_id, id, lamport, sender_key, sequence, kind, timestamp_ms, body, outgoing"

    private func groupMessage(_ row: Row) throws -> GroupMessageRecord {
        let cursor: Int64 = row["cursor"]
        let kind: Int = row["kind"]
        return GroupMessageRecord(
            cursor: cursor, group: try ID(hex: row["group_id"]), id: try MessageID(bytes: Array(row["id"] as Data)),
            lamport: UInt64(max(row["lamport"] as Int64, 0)), senderKey: try SigningPublicKey(bytes: Array(row["sender_key"] as Data)),
            sequence: UInt64(max(row["sequence"] as Int64, 0)), kind: EnvelopeKind(rawValue: UInt8(truncatingIfNeeded: kind)),
            timestampMs: row["timestamp_ms"], body: try sealer.open(row["body"], purpose: "group post \(cursor)"), outgoing: row["outgoing"])
    }

    func groupMessages(in group: ID, before: Int64?, limit: Int) throws -> GroupMessagePage {
        try op {
            let wanted = max(limit, 0)
            var rows: [Row]
            if let before {
                rows = try Row.fetchAll(statement("""
                    SELECT \(Self.groupMessageColumns) FROM group_messages
                    WHERE group_id = ?1 AND (lamport, sender_key, sequence) <
                        (SELECT lamport, sender_key, sequence FROM group_messages WHERE cursor = ?2 AND group_id = ?1)
                    ORDER BY lamport DESC, sender_key DESC, sequence DESC LIMIT ?3
                    """), arguments: [group.hex, before, wanted + 1])
            } else {
                rows = try Row.fetchAll(statement("""
                    SELECT \(Self.groupMessageColumns) FROM group_messages WHERE group_id = ?
                    ORDER BY lamport DESC, sender_key DESC, sequence DESC LIMIT ?
                    """), arguments: [group.hex, wanted + 1])
            }
            let more = rows.count > wanted
            if more { rows.removeLast() }
            return GroupMessagePage(messages: try rows.reversed().map(groupMessage), more: more)
        }
    }

    func groupMessage(cursor: Int64) throws -> GroupMessageRecord? {
        try op {
            try Row.fetchOne(statement("SELECT \(Self.groupMessageColumns) FROM group_messages WHERE cursor = ?"), arguments: [cursor])
                .map(groupMessage)
        }
    }

    func insertGroupMessage(group: ID, id: MessageID, lamport: UInt64, senderKey: SigningPublicKey, sequence: UInt64,
                            kind: EnvelopeKind, timestampMs: Int64, body: [UInt8], outgoing: Bool) throws -> GroupMessageRecord {
        try op {
            guard try Int.fetchOne(statement("SELECT 1 FROM groups WHERE id = ?"), arguments: [group.hex]) != nil else {
                throw ClientError.notFound("no group \(group.hex)")
            }
            // The cursor is known only after the insert: the body is sealed for it then.
            try execute(sql: """
                INSERT INTO group_messages (group_id, id, lamport, sender_key, sequence, kind, timestamp_ms, body, outgoing)
                VALUES (?, ?, ?, ?, ?, ?, ?, x'', ?)
                """, arguments: [group.hex, Data(id.bytes), Int64(clamping: lamport), Data(senderKey.bytes), Int64(clamping: sequence),
                                 Int(kind.rawValue), timestampMs, outgoing])
            let cursor = db.lastInsertedRowID
            try execute(sql: "UPDATE group_messages SET body = ? WHERE cursor = ?",
                        arguments: [sealer.seal(body, purpose: "group post \(cursor)"), cursor])
            return GroupMessageRecord(cursor: cursor, group: group, id: id, lamport: lamport, senderKey: senderKey, sequence: sequence,
                                      kind: kind, timestampMs: timestampMs, body: body, outgoing: outgoing)
        }
    }

    // MARK: The group outbox

    func groupDeposits() throws -> [GroupDepositRecord] {
        try groupDeposits(where: "", arguments: [])
    }

    /// Looked up by the index on the body's first 32 bytes (migration v6), then compared whole.
    func groupDeposits(withBody body: [UInt8]) throws -> [GroupDepositRecord] {
        try groupDeposits(where: "WHERE substr(body, 1, 32) = ? AND body = ?",
                          arguments: [Data(body.prefix(Bytes32.byteCount)), Data(body)])
    }

    func groupDeposits(dueByMs ms: Int64, limit: Int) throws -> [GroupDepositRecord] {
        try groupDeposits(where: "WHERE next_attempt_ms <= ?", arguments: [ms], limit: max(limit, 0))
    }

    func groupDepositKeys() throws -> [GroupDepositKey] {
        try op {
            try Row.fetchAll(statement("SELECT substr(body, 1, 32) AS key, next_attempt_ms FROM group_deposits ORDER BY cursor")).map { row in
                GroupDepositKey(key: GroupDepositRecord.key(of: Array(row["key"] as Data)), nextAttemptMs: row["next_attempt_ms"])
            }
        }
    }

    private func groupDeposits(where condition: String, arguments: StatementArguments, limit: Int? = nil) throws -> [GroupDepositRecord] {
        try op {
            let statement = try statement("""
                SELECT cursor, group_id, mailbox, body, confirmed, attempts, next_attempt_ms FROM group_deposits \(condition)
                ORDER BY cursor\(limit.map { " LIMIT \($0)" } ?? "")
                """)
            return try Row.fetchAll(statement, arguments: arguments).map { row in
                let confirmed = Array(row["confirmed"] as Data)
                guard confirmed.count % Bytes32.byteCount == 0 else { throw ClientError.storage("a group deposit's relays have the wrong size") }
                let relays = try stride(from: 0, to: confirmed.count, by: Bytes32.byteCount).map {
                    ID(rawValue: try Bytes32(confirmed[$0..<($0 + Bytes32.byteCount)]))
                }
                return GroupDepositRecord(cursor: row["cursor"], group: try ID(hex: row["group_id"]),
                                          mailbox: try Bytes32(Array(row["mailbox"] as Data)), body: Array(row["body"] as Data),
                                          confirmed: Set(relays), attempts: row["attempts"], nextAttemptMs: row["next_attempt_ms"])
            }
        }
    }

    func insertGroupDeposit(group: ID, mailbox: Bytes32, body: [UInt8], nextAttemptMs: Int64) throws -> Int64 {
        try op {
            try execute(sql: """
                INSERT INTO group_deposits (group_id, mailbox, body, confirmed, attempts, next_attempt_ms) VALUES (?, ?, ?, x'', 0, ?)
                """, arguments: [group.hex, Data(mailbox.bytes), Data(body), nextAttemptMs])
            return db.lastInsertedRowID
        }
    }

    func updateGroupDeposit(_ record: GroupDepositRecord) throws {
        try op {
            let relays = record.confirmed.sorted().flatMap(\.rawValue.bytes)
            try execute(sql: "UPDATE group_deposits SET confirmed = ?, attempts = ?, next_attempt_ms = ? WHERE cursor = ?",
                        arguments: [Data(relays), record.attempts, record.nextAttemptMs, record.cursor])
        }
    }

    func deleteGroupDeposit(cursor: Int64) throws {
        try op { try execute(sql: "DELETE FROM group_deposits WHERE cursor = ?", arguments: [cursor]) }
    }
}
