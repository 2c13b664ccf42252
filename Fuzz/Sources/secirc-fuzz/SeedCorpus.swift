#if !FUZZING
import Foundation
import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport

/// The seed corpus: real encodings made by the project's own encoders against the fixed keys of
/// ``FuzzFixture``, so the fuzzer starts from inputs that pass the length, MAC and signature
/// checks and mutates from there. `secirc-fuzz seeds Fuzz/corpus` rewrites it; the files are
/// committed.
enum SeedCorpus {
    /// Writes every target's seeds under `directory/<target>/`; returns how many.
    static func write(to directory: URL) throws -> Int {
        var written = 0
        for (target, seeds) in try all() {
            let folder = directory.appendingPathComponent(target.rawValue)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, bytes) in seeds {
                try Data(bytes).write(to: folder.appendingPathComponent("seed-\(name)"))
                target.run(bytes) // every seed must pass its own target
                written += 1
            }
        }
        return written
    }

    typealias Seeds = [(String, [UInt8])]

    static func all() throws -> [(FuzzTarget, Seeds)] {
        let link = try linkSeeds()
        let documents = documentSeeds()
        let e2e = try endToEndSeeds()
        return [
            (.linkPacket, link.packets),
            (.linkFrame, link.frames),
            (.relayDatagrams, link.exchanges),
            (.sphinx, try sphinxSeeds()),
            (.descriptor, documents.descriptors),
            (.directory, documents.directories),
            (.ring, ringSeeds()),
            (.invite, [("uri", Array(FuzzFixture.invite.uri.utf8))]),
            (.contactCard, [("card", try card().encoded)]),
            (.sealedPacket, e2e.sealed),
            (.envelope, e2e.envelopes),
            (.sessionMessage, e2e.sessionMessages),
            (.initialMessage, [("initial", FuzzFixture.aliceSession().initial.encoded)]),
            (.ratchetMessage, e2e.ratchetMessages),
            (.strictJSON, jsonSeeds(documents.descriptors)),
            (.httpRoute, routeSeeds()),
            (.config, try configSeeds()),
            (.dnsTXT, dnsSeeds()),
            (.addresses, addressSeeds()),
            (.apiResponse, apiResponseSeeds()),
            (.group, groupSeeds()),
        ]
    }

    // MARK: Groups

    /// One of each group format, behind the selector byte the group target reads.
    static func groupSeeds() -> Seeds {
        var rng = FuzzFixture.seeded("group seeds")
        let roster = FuzzFixture.groupRoster
        let post = GroupPost(rosterSerial: roster.serial, sequence: 4, lamport: 2, id: MessageID(using: &rng), timestampMs: 1_800_000_000_000,
                             kind: .text, references: [GroupPost.Reference(member: FuzzFixture.bob.identity.signing.publicKey, sequence: 1)],
                             body: Array("hello group".utf8))
        var chain = FuzzFixture.groupChain
        let message = try! chain.encrypt(post.encoded)
        let update = GroupUpdate.signed(groupKey: roster.groupKey, serial: roster.serial + 1, previous: roster.hash,
                                        operations: [.rename("renamed"), .setRole(FuzzFixture.bob.identity.signing.publicKey, .admin)],
                                        by: FuzzFixture.alice.signing)
        let next = GroupEpoch(number: 1, using: &rng)
        let joinRekey = GroupRekey.make(next, for: roster, previous: FuzzFixture.groupEpoch, author: FuzzFixture.alice.signing, rng: &rng)
        let removalRekey = GroupRekey.make(next, for: roster, previous: nil, author: FuzzFixture.alice.signing, rng: &rng)
        let announced = GroupChain.signed(epoch: 0, firstSequence: 4, since: 4, chain: chain, by: FuzzFixture.alice.signing)
        let invitation = GroupInvitation(roster: roster, epoch: FuzzFixture.groupEpoch)
        var seeds: Seeds = [("sender-key-message", [0] + message.encoded), ("distribution", [1] + chain.distribution.encoded),
                            ("update", [2] + update.encoded), ("snapshot", [3] + roster.snapshot), ("post", [4] + post.encoded),
                            ("rekey-join", [6] + joinRekey.encoded), ("rekey-removal", [6] + removalRekey.encoded),
                            ("invitation", [7] + invitation.encoded), ("session-state", [9] + FuzzFixture.groupSession.state),
                            ("control-invitation", [10] + GroupControl.invitation(invitation.encoded).encoded),
                            ("control-question", [10] + GroupControl.epochQuery(group: roster.groupID, epoch: 0, serial: roster.serial).encoded),
                            ("control-ticket-question",
                             [10] + GroupControl.ticketQuery(group: roster.groupID, epoch: 0, serial: roster.serial).encoded)]
        let later = GroupEpoch(number: 2, using: &rng)
        let catchUp = GroupCatchUp(groupKey: roster.groupKey, epoch: later, previousEpoch: next, rosterSerial: roster.serial,
                                   rosterHash: roster.hash, awaitingRekey: false, awaitingRekeyAfterLoss: false)
        seeds.append(("control-catch-up", [10] + GroupControl.catchUp(catchUp.encoded).encoded))
        let resend = GroupResendRequest(epoch: 0, rosterSerial: 0, wantsRekey: true,
                                        posts: [.init(member: FuzzFixture.alice.signing.publicKey, from: 1, through: 3)],
                                        chains: [.init(epoch: 0, chainID: chain.chainID)])
        let channel: [(String, GroupChannelMessage)] = [("post", .post(message)), ("update", .update(update)),
                                                        ("rekey", .rekey(joinRekey)), ("chain", .chain(announced)),
                                                        ("resend", .resend(resend))]
        for (name, message) in channel {
            seeds.append(("channel-\(name)", [5] + message.encoded))
            seeds.append(("session-\(name)", [8] + message.encoded))
        }
        return seeds
    }

    // MARK: Link

    /// Bytes as the relay-datagrams target reads them: `u16 length | bytes` each.
    static func records(_ datagrams: [[UInt8]]) -> [UInt8] {
        datagrams.flatMap { [UInt8($0.count >> 8), UInt8($0.count & 0xFF)] + $0 }
    }

    static func frames() throws -> [(String, LinkFrame)] {
        var rng = FuzzFixture.seeded("frames")
        let mailbox = try Bytes32(rng.bytes(32))
        let key = SigningPrivateKey(using: &rng)
        let nonce = try Bytes32(rng.bytes(32))
        let signature = key.sign(mailbox.bytes + nonce.bytes)
        return [
            ("padding", .padding),
            ("sphinx", .sphinx(try sphinxSeeds()[0].1)),
            ("challenge-request", .fetchChallengeRequest(mailbox: mailbox)),
            ("challenge", .fetchChallenge(mailbox: mailbox, nonce: nonce)),
            ("fetch", .fetchRequest(mailboxKey: key.publicKey, nonce: nonce, ackThrough: 3, signature: signature, subscribe: true,
                                    queueOps: [.add(mailbox), .close(nonce), .clear])),
            ("mailbox-message", .mailboxMessage(mailbox: mailbox, sequence: 9, remaining: 1,
                                                body: rng.bytes(PacketGeometry.standard.bodyLength))),
            ("fetch-done", .fetchDone(mailbox: mailbox, status: .staleNonce, remaining: 2, sent: 1, subscribed: true, queues: 3)),
        ]
    }

    /// A client link manager's handshake with the fixture relay, replayed exactly as the
    /// relay-datagrams target will (same engine copy, same seeded RNG), so the transport packets
    /// it then sends decrypt at the fuzzed relay too.
    static func linkSeeds() throws -> (packets: Seeds, frames: Seeds, exchanges: Seeds) {
        var packets: Seeds = []
        var exchanges: Seeds = []
        let frames = try frames()
        for (name, frame) in frames {
            var clientRNG = FuzzFixture.seeded("client \(name)")
            var client = LinkManager(configuration: .client, now: FuzzFixture.now, rng: &clientRNG)
            var engine = FuzzFixture.relay.engine
            var relayRNG = FuzzFixture.seeded("relay datagrams")
            var sent: [[UInt8]] = []
            var out: [Datagram] = []
            client.send(frame.encoded(), to: FuzzFixture.relayPeer, now: FuzzFixture.now, rng: &clientRNG, out: &out)
            var toClient: [Datagram] = []
            var answered = false
            for _ in 0..<3 where !out.isEmpty {
                for datagram in out {
                    sent.append(datagram.bytes)
                    var effects = NodeEffects<RelayEngine.Event>()
                    engine.receive(datagram.bytes, from: FuzzFixture.peerAddress, now: FuzzFixture.now, rng: &relayRNG, effects: &effects)
                    toClient += effects.datagrams
                }
                out = []
                for datagram in toClient {
                    if name == "padding" { packets.append(("relay-\(packets.count)", datagram.bytes)) }
                    if client.receive(datagram.bytes, from: FuzzFixture.relayAddress, now: FuzzFixture.now, rng: &clientRNG,
                                      out: &out) != nil {
                        answered = true
                    }
                }
                toClient = []
            }
            // The relay answers a challenge request with a challenge: proof that the fuzzed relay
            // (same engine, same RNG) decrypts these transport packets and handles their frames.
            precondition(name != "challenge-request" || answered, "the fixture relay did not answer the seed's frame")
            exchanges.append((name, records(sent)))
            for (i, bytes) in sent.enumerated() where name == "padding" || i > 0 { packets.append(("\(name)-\(i)", bytes)) }
        }
        return (packets, frames.map { ($0.0, $0.1.encoded()) }, exchanges)
    }

    // MARK: Sphinx

    static func sphinxSeeds() throws -> Seeds {
        var rng = FuzzFixture.seeded("sphinx seeds")
        let key = FuzzFixture.onionKey
        let builder = SphinxPacketBuilder()
        let next = try Bytes32(rng.bytes(32))
        let commands: [(String, RoutingCommand)] = [
            ("deliver", .deliver(to: try Bytes32(rng.bytes(32)))),
            ("forward", .forward(to: next, delayMilliseconds: 250, nextEpoch: 8)),
            ("drop", .drop),
        ]
        return try commands.map { name, command in
            let hop = SphinxHop(onionKey: key.publicKey, epoch: key.epoch, command: command)
            return (name, try builder.build(path: [hop], body: Array("fuzz \(name)".utf8), using: &rng))
        }
    }

    // MARK: Documents

    static func documentSeeds() -> (descriptors: Seeds, directories: Seeds) {
        var descriptors: Seeds = []
        var directories: Seeds = []
        for event in FuzzFixture.relay.events {
            switch event {
            case let .descriptorSigned(document): descriptors.append(("descriptor-\(descriptors.count)", document.jsonBytes()))
            case let .saveDirectory(document): directories.append(("directory-\(directories.count)", document.jsonBytes()))
            default: break
            }
        }
        precondition(!descriptors.isEmpty && !directories.isEmpty, "the fixture relay signed no descriptor or directory")
        // A diff from the fixture's directory to its successor with one rating changed.
        if let base = FuzzFixture.signedDirectory {
            var next = base.directory
            next.serial += 1
            next.previous = base.document.bodyHash
            if var ratings = next.ratings, !ratings.isEmpty {
                ratings[0].weight += 1
                next.ratings = ratings
            }
            var document = next.unsignedDocument()
            document.sign(with: FuzzFixture.rosterKey)
            if let diff = DirectoryDiff.make(from: base.document, base.directory, to: document, next) {
                directories.append(("diff-0", diff.jsonBytes()))
            }
        }
        return (descriptors, directories)
    }

    // MARK: End to end

    static func card() throws -> ContactCard {
        let alice = FuzzFixture.alice
        return try ContactCard(signingWith: alice.signing, agreementKey: alice.agreement.publicKey, created: 1_799_999_000,
                               mailboxes: FuzzFixture.mailboxes(2), displayName: "Alice")
    }

    static func endToEndSeeds() throws -> (sealed: Seeds, envelopes: Seeds, sessionMessages: Seeds, ratchetMessages: Seeds) {
        var rng = FuzzFixture.seeded("end to end seeds")
        let text = Envelope.text("hello bob", id: MessageID(using: &rng), timestampMs: 1_800_000_000_000)
        let receipt = Envelope.receipt(for: [MessageID(using: &rng), MessageID(using: &rng)], id: MessageID(using: &rng),
                                       timestampMs: 1_800_000_000_001)
        let envelopes: Seeds = [("text", text.encoded), ("receipt", receipt.encoded)]

        // After alice's first message (which the fixture's bob ratchet took), two more; and a
        // set-up message of a session of its own (bob answers it from its initial message).
        var alice = FuzzFixture.ratchetPair().alice
        _ = FuzzFixture.firstRatchetMessage(from: &alice)
        var later: [RatchetMessage] = []
        for envelope in [text, receipt] {
            later.append(try alice.encrypt(envelope.encoded, associatedData: FuzzFixture.associatedData, rng: &rng))
        }
        var bob = FuzzFixture.bobRatchet
        precondition((try? bob.decrypt(later[0], associatedData: FuzzFixture.associatedData)) == text.encoded,
                     "the fixture's bob cannot read the seeds' ratchet messages")
        var (fresh, freshInitial) = FuzzFixture.aliceSession()
        let setupMessage = SessionMessage(
            messageID: text.id, sender: FuzzFixture.alice.signing.publicKey,
            setup: .init(card: try card(), initialMessage: freshInitial),
            ratchetMessage: try fresh.encrypt(text.encoded, associatedData: FuzzFixture.associatedData, rng: &rng))
        let plain = SessionMessage(messageID: receipt.id, sender: FuzzFixture.alice.signing.publicKey, ratchetMessage: later[1])

        var sealed: Seeds = []
        let transfer = MessageID(using: &rng)
        for (i, fragment) in try SealedPacket.fragments(of: setupMessage.encoded, transferID: transfer).enumerated().prefix(2) {
            sealed.append(("fragment-\(i)", try SealedPacket.seal(fragment, to: FuzzFixture.bob.identity.agreement.publicKey, rng: &rng)))
        }
        return (sealed, envelopes, [("setup", setupMessage.encoded), ("ratchet", plain.encoded)],
                later.enumerated().map { ("message-\($0.offset)", $0.element.encoded) })
    }

    // MARK: APIs and configuration

    /// Votes of members 1 and 2 (and a second, different one of member 1), and their shares.
    static func ringSeeds() -> Seeds {
        var seeds: Seeds = []
        for (name, member, rate) in [("vote-1", 1, 2.0), ("vote-2", 2, 2.0), ("vote-1-again", 1, 3.0)] {
            var round = FuzzFixture.ringRound(member: member, coverRate: rate)
            seeds.append((name, [0] + round.ownVote.jsonBytes()))
            var other = FuzzFixture.ringRound
            _ = try? other.receiveVote(round.ownVote)
            _ = try? round.receiveVote(FuzzFixture.ringRound.ownVote)
            if let share = round.closeVoting() { seeds.append(("share-\(name)", [1] + share.jsonBytes())) }
        }
        // Governance: a proposal adding a fourth member, signed by member 1; the same in force
        // (members 1 and 2), and as a `GET /v1/ring/roster` answer.
        var keys = FuzzFixture.seeded("ring newcomer")
        let newcomer = Roster.Member(identityKey: SigningPrivateKey(using: &keys).publicKey, udp: "10.0.1.9:6690",
                                     http: "http://10.0.1.9:6691")
        let roster = FuzzFixture.ringRoster
        if let change = try? RosterChange.following(roster, members: roster.members + [newcomer], threshold: nil,
                                                    network: GovernedParameters(coverRate: 3), proposedAt: 1_000_000, note: "seed") {
            var document = change.unsignedDocument()
            document.sign(with: FuzzFixture.ringMembers[1])
            seeds.append(("proposal", [2] + document.jsonBytes()))
            document.sign(with: FuzzFixture.ringMembers[2])
            seeds.append(("change-in-force", [2] + document.jsonBytes()))
            let answer = RosterChainAnswer(epoch: 1, roster: change.roster, changes: [document])
            seeds.append(("roster-answer", [3] + answer.jsonBytes()))
        }
        return seeds
    }

    static func jsonSeeds(_ descriptors: Seeds) -> Seeds {
        [
            ("add-contact", Array(#"{"invite":"secirc:abc","name":"bob"}"#.utf8)),
            ("send", Array(#"{"text":"hello \u00e9\ud83d\ude00"}"#.utf8)),
            ("rename", Array(#"{"name":"Bob"}"#.utf8)),
            ("lists", Array(#"{"a":[1,-2,9223372036854775807],"b":[]}"#.utf8)),
            ("descriptor", descriptors[0].1),
        ]
    }

    static func routeSeeds() -> Seeds {
        // First byte: low nibble the method (get, post, put, delete, head), 0x10 the token, 0x20 JSON.
        [
            ("healthz", [0x00] + Array("/healthz".utf8)),
            ("contacts", [0x31] + Array("/v1/contacts\n{\"invite\":\"secirc:x\"}".utf8)),
            ("contact", [0x10] + Array("/v1/contacts/abc".utf8)),
            ("rename", [0x32] + Array("/v1/contacts/abc\n{\"name\":\"Bob\"}".utf8)),
            ("send", [0x31] + Array("/v1/conversations/abc/messages\n{\"text\":\"hi\"}".utf8)),
            ("peer", [0x13] + Array("/v1/admin/peers/0011".utf8)),
            ("descriptor", [0x21] + Array("/v1/descriptors\n{}".utf8)),
            ("no-route", [0x04] + Array("/v1/contacts/abc/queues/rotate/".utf8)),
        ]
    }

    static func configSeeds() throws -> Seeds {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config")
        return try [("server", 0), ("client", 1), ("security", 2)].map { name, selector in
            let file = root.appendingPathComponent("\(name).yaml")
            return (name, [UInt8(selector)] + Array(try Data(contentsOf: file)))
        }
    }

    static func dnsSeeds() -> Seeds {
        // `_secirc.test` TXT: one answer with two strings, pointing back at the question's name.
        let name: [UInt8] = [7] + Array("_secirc".utf8) + [4] + Array("test".utf8) + [0]
        var rdata: [UInt8] = []
        for string in ["https://relay.example:6691", "#pin"] { rdata += [UInt8(string.utf8.count)] + Array(string.utf8) }
        var message: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0] + name + [0, 16, 0, 1]
        message += [0xC0, 12, 0, 16, 0, 1, 0, 0, 0x0E, 0x10, UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
        return [("answer", message)]
    }

    static func addressSeeds() -> Seeds {
        [
            ("ipv4", Array("127.0.0.1:6690".utf8)),
            ("ipv6", Array("[::1]:6691".utf8)),
            ("host", Array("relay.example:443".utf8)),
            ("bootstrap", Array("https://relay.example:6691/#spki=\(BootstrapURL.base64([UInt8](repeating: 7, count: 32)))".utf8)),
            ("mailboxes", FuzzFixture.mailboxes(2).flatMap { $0.relayID.rawValue.bytes + $0.mailboxID.bytes }),
        ]
    }

    static func apiResponseSeeds() -> Seeds {
        let json = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}"
        let events = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "1a\r\nevent: message\ndata: {\"a\":1}\n\n\r\n5\r\n: hb\n\r\n0\r\n\r\n"
        let interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nnot found"
        return [("json", [7] + Array(json.utf8)), ("events", [3] + Array(events.utf8)), ("interim", [63] + Array(interim.utf8))]
    }
}
#endif
