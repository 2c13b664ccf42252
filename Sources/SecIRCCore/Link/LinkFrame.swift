public import SecIRCCrypto

/// The kind byte at the front of every link frame (docs/PROTOCOL.md §4, Frames). Open: an
/// unknown kind is data (the receiver counts and drops it).
public struct LinkFrameKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let padding = LinkFrameKind(rawValue: 0)
    public static let sphinx = LinkFrameKind(rawValue: 1)
    public static let fetchChallengeRequest = LinkFrameKind(rawValue: 2)
    public static let fetchChallenge = LinkFrameKind(rawValue: 3)
    public static let fetchRequest = LinkFrameKind(rawValue: 4)
    public static let mailboxMessage = LinkFrameKind(rawValue: 5)
    public static let fetchDone = LinkFrameKind(rawValue: 6)

    public var description: String { "frame(\(rawValue))" }
}

/// Outcome of a mailbox fetch, in `fetchDone`.
public struct FetchStatus: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let ok = FetchStatus(rawValue: 0)
    /// The signature or the key did not match the mailbox.
    public static let denied = FetchStatus(rawValue: 1)
    /// The nonce was not issued on this link, or was used already.
    public static let staleNonce = FetchStatus(rawValue: 2)
    /// The mailbox is new to the relay, which knows as many as it may (none of them empty).
    public static let full = FetchStatus(rawValue: 3)
    /// The mailbox is known as the other kind (a group mailbox fetched as a personal one, or the
    /// reverse): nothing sent, nothing deleted.
    public static let wrongKind = FetchStatus(rawValue: 4)
}

/// The flags byte of `fetchRequest` and `fetchDone` (bits not named here are ignored).
public enum FetchFlags {
    /// Request: push new mail down this session. Done: the relay will.
    public static let subscribe: UInt8 = 1
    /// Request: the mailbox is a group mailbox — `ackThrough` is a cursor (the messages after it
    /// are sent, none deleted), a new mailbox is registered as a group's, queue ops are refused,
    /// and a subscription adds this session to the others.
    public static let group: UInt8 = 2
}

/// A change to the deposit queues of a mailbox, carried (signed) in a fetch request
/// (docs/PROTOCOL.md §4, Deposit queues). A queue ID is 32 random bytes the owner gave one
/// contact; deposits to it count against that queue alone.
public enum QueueOp: Sendable, Hashable {
    /// Accept deposits to this queue ID for the mailbox (nothing when it is there already).
    case add(Bytes32)
    /// Stop accepting deposits to it (mail it holds stays until fetched).
    case close(Bytes32)
    /// Forget every queue of the mailbox (the owner registers its queues anew).
    case clear

    /// Ops one fetch request carries at most.
    public static let maximumPerFetch = 32
    /// Bytes per op on the wire: the op byte and a queue ID (zero for `clear`).
    static let encodedLength = 33

    var code: UInt8 {
        switch self {
        case .add: 1
        case .close: 2
        case .clear: 3
        }
    }

    var queue: Bytes32 {
        switch self {
        case let .add(id), let .close(id): id
        case .clear: .zero
        }
    }

    /// `count (1) || count × (op (1) || queue ID (32))`.
    static func encode(_ ops: [QueueOp], into w: inout ByteWriter) {
        w.write(UInt8(ops.count))
        for op in ops {
            w.write(op.code)
            w.write(op.queue)
        }
    }

    static func decode(from r: inout ByteReader) throws -> [QueueOp] {
        let count = Int(try r.readUInt8())
        guard count <= maximumPerFetch else { throw DecodeError.invalidValue("queue op count \(count) > \(maximumPerFetch)") }
        var ops: [QueueOp] = []
        ops.reserveCapacity(count)
        for _ in 0..<count {
            let code = try r.readUInt8()
            let queue = try r.readBytes32()
            switch code {
            case 1: ops.append(.add(queue))
            case 2: ops.append(.close(queue))
            case 3: ops.append(.clear)
            default: throw DecodeError.invalidValue("queue op \(code)")
            }
        }
        return ops
    }
}

/// One link frame: the plaintext of a transport packet, always `geometry.linkFrameLength`
/// bytes when encoded (zero padding after the fields).
///
/// Mailbox fetch (client → its mailbox relay, over an NK link): `fetchChallengeRequest`,
/// answered by `fetchChallenge` with a fresh nonce; then `fetchRequest` carries the mailbox's
/// Ed25519 public key (whose SHA-256 is the mailbox ID), the nonce, the highest sequence number
/// the client already holds (`ackThrough`: the relay deletes those), and a signature over
/// `"secIRC mailbox fetch v1" || relay ID || nonce || ackThrough(8)`, then a flags byte (bit 0:
/// subscribe; bit 1: a group mailbox; not signed, the link's AEAD protects it). The relay answers with `mailboxMessage`
/// frames and a closing `fetchDone`, whose flags byte (bit 0: subscribed) says whether it will
/// push new mail for that mailbox down this link session as `mailboxMessage` frames. A sender
/// that knows no flags leaves zero padding there: no subscription.
public enum LinkFrame: Sendable, Hashable {
    case padding
    /// A Sphinx packet: exactly `geometry.sphinxPacketLength` bytes.
    case sphinx([UInt8])
    case fetchChallengeRequest(mailbox: Bytes32)
    case fetchChallenge(mailbox: Bytes32, nonce: Bytes32)
    /// `subscribe`: push new deposits of this mailbox down this link session (push delivery).
    /// `queueOps`: changes to the mailbox's deposit queues, applied (in order) before the batch,
    /// covered by the signature.
    case fetchRequest(mailboxKey: SigningPublicKey, nonce: Bytes32, ackThrough: UInt64, signature: Signature, subscribe: Bool = false,
                      group: Bool = false, queueOps: [QueueOp] = [])
    /// `body` is exactly `geometry.bodyLength` bytes (a Sphinx body as delivered).
    case mailboxMessage(mailbox: Bytes32, sequence: UInt64, remaining: UInt32, body: [UInt8])
    /// `sent`: how many `mailboxMessage` frames came before it in this batch, so that the owner
    /// acknowledges a batch only when all of it arrived (a lost datagram costs a repeat).
    /// `subscribed`: the relay will push new mail of this mailbox down this session (until the
    /// session ends or another subscription replaces it). `queues`: how many deposit queues the
    /// mailbox holds at the relay after the request's ops (the owner registers them anew when it
    /// differs from what it expects, e.g. after the relay restarted).
    case fetchDone(mailbox: Bytes32, status: FetchStatus, remaining: UInt32, sent: UInt32, subscribed: Bool = false, queues: UInt16 = 0)
    case unknown(LinkFrameKind)

    /// What the mailbox key signs for a fetch: with queue ops, their encoding (count and ops)
    /// follows; with none, nothing does (the signed bytes of the first version).
    public static func fetchSignedBytes(relay: Bytes32, nonce: Bytes32, ackThrough: UInt64, queueOps: [QueueOp] = []) -> [UInt8] {
        var writer = ByteWriter(capacity: 96 + queueOps.count * QueueOp.encodedLength)
        writer.write(Array("secIRC mailbox fetch v1".utf8))
        writer.write(relay)
        writer.write(nonce)
        writer.write(ackThrough)
        if !queueOps.isEmpty { QueueOp.encode(queueOps, into: &writer) }
        return writer.bytes
    }

    /// The frame as `geometry.linkFrameLength` bytes.
    public func encoded(geometry: PacketGeometry = .standard) -> [UInt8] {
        var w = ByteWriter(capacity: geometry.linkFrameLength)
        switch self {
        case .padding:
            w.write(LinkFrameKind.padding.rawValue)
        case let .sphinx(packet):
            precondition(packet.count == geometry.sphinxPacketLength, "a Sphinx frame carries one whole packet")
            w.write(LinkFrameKind.sphinx.rawValue)
            w.write(packet)
        case let .fetchChallengeRequest(mailbox):
            w.write(LinkFrameKind.fetchChallengeRequest.rawValue)
            w.write(mailbox)
        case let .fetchChallenge(mailbox, nonce):
            w.write(LinkFrameKind.fetchChallenge.rawValue)
            w.write(mailbox)
            w.write(nonce)
        case let .fetchRequest(key, nonce, ackThrough, signature, subscribe, group, queueOps):
            precondition(queueOps.count <= QueueOp.maximumPerFetch, "at most \(QueueOp.maximumPerFetch) queue ops per fetch")
            w.write(LinkFrameKind.fetchRequest.rawValue)
            w.write(key.rawValue)
            w.write(nonce)
            w.write(ackThrough)
            w.write(signature.bytes)
            w.write((subscribe ? FetchFlags.subscribe : 0) | (group ? FetchFlags.group : 0))
            QueueOp.encode(queueOps, into: &w)
        case let .mailboxMessage(mailbox, sequence, remaining, body):
            precondition(body.count == geometry.bodyLength, "a mailbox message carries one whole body")
            w.write(LinkFrameKind.mailboxMessage.rawValue)
            w.write(mailbox)
            w.write(sequence)
            w.write(remaining)
            w.write(body)
        case let .fetchDone(mailbox, status, remaining, sent, subscribed, queues):
            w.write(LinkFrameKind.fetchDone.rawValue)
            w.write(mailbox)
            w.write(status.rawValue)
            w.write(remaining)
            w.write(sent)
            w.write(subscribed ? FetchFlags.subscribe : 0)
            w.write(queues)
        case let .unknown(kind):
            w.write(kind.rawValue)
        }
        w.writeZeros(geometry.linkFrameLength - w.bytes.count)
        return w.bytes
    }

    /// Parses a frame; it must be exactly `geometry.linkFrameLength` bytes. Padding after the
    /// fields is not checked (it is inside the link AEAD).
    public static func decode(_ bytes: [UInt8], geometry: PacketGeometry = .standard) throws(DecodeError) -> LinkFrame {
        guard bytes.count == geometry.linkFrameLength else {
            if bytes.count < geometry.linkFrameLength { throw .incomplete(deficit: geometry.linkFrameLength - bytes.count) }
            throw .trailingBytes(count: bytes.count - geometry.linkFrameLength)
        }
        var r = ByteReader(bytes)
        do {
            let kind = LinkFrameKind(rawValue: try r.readUInt8())
            switch kind {
            case .padding: return .padding
            case .sphinx: return .sphinx(try r.readBytes(geometry.sphinxPacketLength))
            case .fetchChallengeRequest: return .fetchChallengeRequest(mailbox: try r.readBytes32())
            case .fetchChallenge: return .fetchChallenge(mailbox: try r.readBytes32(), nonce: try r.readBytes32())
            case .fetchRequest:
                let key = SigningPublicKey(rawValue: try r.readBytes32())
                let nonce = try r.readBytes32()
                let ack = try r.readUInt64()
                guard let signature = try? Signature(bytes: r.readBytes(Signature.byteCount)) else {
                    throw DecodeError.invalidValue("signature")
                }
                let flags = try r.readUInt8()
                return .fetchRequest(mailboxKey: key, nonce: nonce, ackThrough: ack, signature: signature,
                                     subscribe: flags & FetchFlags.subscribe != 0, group: flags & FetchFlags.group != 0,
                                     queueOps: try QueueOp.decode(from: &r))
            case .mailboxMessage:
                return .mailboxMessage(mailbox: try r.readBytes32(), sequence: try r.readUInt64(), remaining: try r.readUInt32(),
                                       body: try r.readBytes(geometry.bodyLength))
            case .fetchDone:
                return .fetchDone(mailbox: try r.readBytes32(), status: FetchStatus(rawValue: try r.readUInt8()),
                                  remaining: try r.readUInt32(), sent: try r.readUInt32(),
                                  subscribed: try r.readUInt8() & FetchFlags.subscribe != 0, queues: try r.readUInt16())
            default:
                return .unknown(kind)
            }
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("\(error)")
        }
    }
}
