import SecIRCCore
import SecIRCCrypto
import Testing

/// `LinkPacket.decode`: round trips, exact lengths, unknown types, and random input through the
/// decoder and every state machine without a trap.
@Suite("Link decoder")
struct LinkDecoderTests {
    /// One genuine datagram of every type, from a real IK and NK exchange.
    static func samples() -> [(name: String, bytes: [UInt8])] {
        var ik = LinkScenario(.ik, seed: "decoder samples")
        let established = ik.establish()
        var nk = LinkScenario(.nk, seed: "decoder samples")
        let nkInitiation = nk.initiation()
        guard case let .sendCookieReply(cookieReply) = nk.respond(nkInitiation, underLoad: true) else { fatalError("no cookie reply") }
        return [
            ("initiation IK", established.initiation),
            ("initiation NK", nkInitiation),
            ("response", established.response),
            ("cookie reply", cookieReply),
            ("transport", established.confirmation),
        ]
    }

    @Test("wire sizes")
    func sizes() {
        #expect(LinkWireFormat.initiationIKLength == 145)
        #expect(LinkWireFormat.initiationNKLength == 97)
        #expect(LinkWireFormat.responseLength == 89)
        #expect(LinkWireFormat.cookieReplyLength == 61)
        #expect(LinkWireFormat.transportHeaderLength == 13)
        #expect(PacketGeometry.standard.linkFrameLength + LinkWireFormat.transportHeaderLength + LinkWireFormat.tagLength == 1232)
        #expect(LinkWireFormat.prologue == Array("secIRC link v1".utf8) && LinkWireFormat.prologue.count == 14)
        #expect(LinkResponse.mac1Offset == 57 && LinkResponse.mac2Offset == 73)
        #expect(LinkInitiation.mac1Offset(.ik) == 113 && LinkInitiation.mac2Offset(.ik) == 129)
        #expect(LinkInitiation.mac1Offset(.nk) == 65 && LinkInitiation.mac2Offset(.nk) == 81)
    }

    @Test("decode then encode gives the same bytes; fields sit at their offsets")
    func roundTrip() throws {
        for (name, bytes) in Self.samples() {
            let packet = try LinkPacket.decode(bytes)
            let encoded: [UInt8]
            switch packet {
            case let .initiationIK(m), let .initiationNK(m):
                encoded = LinkWireFormat.padded(m.encoded, geometry: .standard)
                #expect(m.ephemeral.bytes == Array(bytes[5..<37]))
                let mac2 = LinkInitiation.mac2Offset(m.kind)
                #expect(m.mac2 == Array(bytes[mac2..<(mac2 + 16)]))
            case let .response(m):
                encoded = LinkWireFormat.padded(m.encoded, geometry: .standard)
                #expect(LinkPacket.receiverIndex(of: bytes) == m.receiverIndex)
            case let .cookieReply(m):
                encoded = LinkWireFormat.padded(m.encoded, geometry: .standard)
                #expect(LinkPacket.receiverIndex(of: bytes) == m.receiverIndex)
            case let .transport(m):
                encoded = m.encoded
                #expect(m.counter == 0)
                #expect(m.header == Array(bytes.prefix(13)))
                #expect(LinkPacket.receiverIndex(of: bytes) == m.receiverIndex)
            case .unknown:
                encoded = []
            }
            #expect(encoded == bytes, "\(name)")
            #expect(bytes.count == PacketGeometry.standard.datagramSize, "\(name): one size on the wire")
            #expect(packet.type.rawValue == bytes[0])
            #expect(LinkPacket.messageType(of: bytes) == packet.type)
        }
        #expect(LinkPacket.messageType(of: []) == nil)
    }

    @Test("every truncation throws incomplete, every extension trailingBytes")
    func lengths() {
        for (name, bytes) in Self.samples() {
            let minimum = bytes[0] == LinkMessageType.transport.rawValue ? LinkWireFormat.transportMinimumLength : bytes.count
            for length in 0..<minimum {
                #expect(throws: DecodeError.incomplete(deficit: length == 0 ? 1 : minimum - length), "\(name) \(length)") {
                    _ = try LinkPacket.decode(Array(bytes.prefix(length)))
                }
            }
            if bytes[0] != LinkMessageType.transport.rawValue {
                for extra in 1...3 {
                    #expect(throws: DecodeError.trailingBytes(count: extra)) { _ = try LinkPacket.decode(bytes + [UInt8](repeating: 0, count: extra)) }
                }
            }
        }
        // Transport: anything from a bare header + tag up to the datagram size; nothing longer.
        var transport = [UInt8](repeating: 0, count: 1232)
        transport[0] = 5
        #expect((try? LinkPacket.decode(transport)) != nil)
        #expect((try? LinkPacket.decode(Array(transport.prefix(29)))) != nil)
        #expect(throws: DecodeError.trailingBytes(count: 1)) { _ = try LinkPacket.decode(transport + [0]) }
        #expect(LinkPacket.receiverIndex(of: transport + [0]) == nil)
        #expect(LinkPacket.receiverIndex(of: Array(transport.prefix(20))) == nil)
    }

    @Test("unknown type bytes decode as data")
    func unknownTypes() throws {
        for type in [0] + Array(6...255) {
            #expect(try LinkPacket.decode([UInt8(type), 1, 2, 3]) == .unknown(type: LinkMessageType(rawValue: UInt8(type))))
        }
        #expect(LinkMessageType(rawValue: 9).description == "unknown(9)")
        #expect(LinkMessageType.transport.description == "transport")
    }

    @Test("50,000+ random datagrams: the decoder and every state machine answer without trapping")
    func fuzz() {
        var state: UInt64 = 0x5EC1_2C00_F022
        func random() -> UInt64 { // SplitMix64: fast enough to keep this test short in debug
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func bytes(_ count: Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: count)
            var i = 0
            while i < count {
                var word = random()
                for _ in 0..<8 where i < count {
                    out[i] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    i += 1
                }
            }
            return out
        }

        var scenario = LinkScenario(.ik, seed: "fuzz")
        var (session, responderSession) = scenario.confirmedSessions()
        _ = scenario.initiation() // leave a handshake pending so responses reach the index check
        let pendingIndex = scenario.initiator.pendingIndex ?? 0
        let lengths = [145, 97, 89, 61, 29, 1232]
        var decoded = 0
        var counts: [String: Int] = [:]
        for round in 0..<50_000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = bytes(Int(random() % 1301))
            } else {
                let type = UInt8(1 + random() % 5)
                let length = Int(type) == 5 ? 29 + Int(random() % 1204) : lengths[Int(type) - 1]
                input = [type] + bytes(length - 1)
                // Handshake messages travel padded with zeros to one datagram (PROTOCOL §4.1).
                if type < 5 { input = LinkWireFormat.padded(input, geometry: .standard) }
                // Aim half of these at live indices so they get past the index checks.
                if random() % 2 == 0, input.count >= 9 {
                    let index = type == 5 ? responderSession.localIndex : pendingIndex
                    let offset = type == 3 ? 5 : 1
                    input.replaceSubrange(offset..<(offset + 4), with: withUnsafeBytes(of: index.bigEndian, Array.init))
                }
            }
            if (try? LinkPacket.decode(input)) != nil { decoded += 1 }
            let r = LinkOutcome(scenario.respond(input, underLoad: round % 3 == 0))
            let i = LinkOutcome(scenario.initiator.receive(input, now: LinkScenario.start))
            let s = LinkOutcome(responderSession.open(input, now: LinkScenario.start))
            for outcome in [r, i, s] { counts[outcome.description, default: 0] += 1 }
            #expect(r == .drop(.malformed) || r == .drop(.unexpectedMessage) || r == .drop(.badMAC1))
            #expect(i != .established && i != .cookieStored)
            #expect(s != .deliver && s != .confirmed)
        }
        #expect(decoded > 20_000)
        // The live session and the pending handshake still work afterwards.
        #expect(LinkOutcome(responderSession.open(session.seal([1, 2, 3], now: LinkScenario.start).packet ?? [], now: LinkScenario.start)) == .deliver)
        #expect(counts["drop(decrypt_failed)", default: 0] > 0)
        #expect(counts["drop(unknown_index)", default: 0] > 0)
    }
}
