import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCNode

// The client API's values (SecIRCAPI) made from what the store holds.

extension Contact {
    init(_ record: ContactRecord) {
        self.init(id: record.id.hex, name: record.name, identityKey: record.identityKey.rawValue.hex,
                  addedMilliseconds: record.addedMs, session: record.session.rawValue, state: record.isRequest ? "requested" : "accepted")
    }
}

extension Message {
    init(_ record: MessageRecord) {
        self.init(id: record.id.hex, contact: record.contact.hex, direction: record.direction.rawValue,
                  kind: record.kind == .text ? "text" : "other", text: record.text, timestampMilliseconds: record.timestampMs,
                  state: record.state.rawValue, attempts: record.attempts, cursor: record.cursor)
    }
}

extension DepositQueues {
    init(_ queues: [ContactQueue]) {
        self.init(queues: queues.map { queue in
            let (state, closeAt): (String, Int64?) = switch queue.state {
            case .open: ("open", nil)
            case let .closing(atMs): ("closing", atMs)
            case .closed: ("closed", nil)
            }
            return Queue(relay: queue.relayID.hex, state: state, closeAtMilliseconds: closeAt, createdMilliseconds: queue.createdMs)
        })
    }
}

extension Mailbox {
    init(_ address: MailboxAddress) {
        self.init(relayID: address.relayID.hex, mailboxID: address.mailboxID.hex)
    }
}

extension APIEvent {
    init(_ event: ClientEvent) {
        switch event {
        case let .message(record): self = .message(Message(record))
        case let .receipt(id, contact): self = .receipt(Receipt(id: id.hex, contact: contact.hex))
        case let .contact(record): self = .contact(Contact(record))
        case let .request(record): self = .request(Contact(record))
        case let .groupMessage(record): self = .groupMessage(GroupMessage(record))
        case let .groupMember(group, member, change):
            self = .groupMember(GroupMemberEvent(group: group.hex, member: member.hex, change: change.rawValue, name: nil))
        case let .groupRenamed(group, name): self = .groupMember(GroupMemberEvent(group: group.hex, member: nil, change: "renamed", name: name))
        case let .groupInvite(record): self = .groupInvite(GroupInvitationInfo(record))
        }
    }
}
