import SecIRCCore
import SecIRCCrypto
import Testing

/// Group sender keys (issue 13): one encryption per message whatever the group's size, each
/// member reading it with the chain state the sender handed out; signatures, order, gaps,
/// duplicates, bounds, and decoders fed bad input.
@Suite struct SenderKeyTests {
    static let group = Bytes32 { $0.initializeMemory(as: UInt8.self, repeating: 7) }

    static func chain(_ seed: String) -> SenderKeyChain {
        var rng = SeededRandom(seed: seed)
        return SenderKeyChain(groupID: group, using: &rng)
    }

    static func text(_ i: Int) -> [UInt8] { Array("message \(i)".utf8) }

    @Test func membersReadEveryMessageOnceInAnyOrder() throws {
        var sender = Self.chain("alice")
        var bob = SenderKeyReceiver(sender.distribution)
        var carol = SenderKeyReceiver(sender.distribution)
        let messages = try (0..<10).map { try sender.encrypt(Self.text($0)) }
        #expect(messages.map(\.iteration) == Array(0..<10))
        // One encryption serves every member: the same bytes for bob and carol.
        for (i, message) in messages.enumerated() {
            let plaintext = try bob.decrypt(message)
            #expect(plaintext == Self.text(i))
        }
        for i in [9, 2, 5, 0, 1, 3, 4, 8, 6, 7] {
            let plaintext = try carol.decrypt(messages[i])
            #expect(plaintext == Self.text(i))
        }
        #expect(carol.skippedCount == 0, "every skipped key used and deleted")
        // Each message decrypts once: its key is gone afterwards.
        #expect(throws: SenderKeyError.duplicate) { try bob.decrypt(messages[3]) }
        #expect(throws: SenderKeyError.duplicate) { try carol.decrypt(messages[9]) }
    }

    @Test func aLateJoinerReadsFromTheIterationHandedOutOnly() throws {
        var sender = Self.chain("alice")
        let before = try (0..<3).map { try sender.encrypt(Self.text($0)) }
        var dave = SenderKeyReceiver(sender.distribution)
        #expect(dave.next == 3)
        for message in before { #expect(throws: SenderKeyError.duplicate) { try dave.decrypt(message) } }
        let plaintext = try dave.decrypt(sender.encrypt(Self.text(3)))
        #expect(plaintext == Self.text(3))
    }

    @Test func forgedTamperedAndForeignMessagesChangeNothing() throws {
        var sender = Self.chain("alice")
        var bob = SenderKeyReceiver(sender.distribution)
        let genuine = try sender.encrypt(Self.text(0))

        // Another key signing (a member, or the relay, forging alice's chain).
        var mallory = Self.chain("mallory")
        let forged = try mallory.encrypt(Self.text(0))
        // mallory's ciphertext and signature under alice's header.
        let relabelled = try SenderKeyMessage.decode(Array(genuine.encoded.prefix(SenderKeyFormat.headerLength)) + forged.ciphertext
                                                     + forged.signature.bytes, maxPlaintext: 64)
        #expect(throws: SenderKeyError.badSignature) { try bob.decrypt(relabelled) }
        #expect(throws: SenderKeyError.wrongChain) { try bob.decrypt(forged) }
        // Any flipped bit of the message.
        let bytes = genuine.encoded
        for bit in stride(from: 8, to: bytes.count * 8, by: 7) {
            var flipped = bytes
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            guard let message = try? SenderKeyMessage.decode(flipped, maxPlaintext: 64) else { continue }
            #expect(throws: SenderKeyError.self) { try bob.decrypt(message) }
        }
        #expect(bob.next == 0 && bob.skippedCount == 0, "nothing moved")
        let plaintext = try bob.decrypt(genuine)
        #expect(plaintext == Self.text(0))
    }

    @Test func gapsAreBounded() throws {
        var sender = Self.chain("alice")
        var bob = SenderKeyReceiver(sender.distribution)
        var messages: [SenderKeyMessage] = []
        for i in 0...(Int(SenderKeyReceiver.maxSkip) + 1) { messages.append(try sender.encrypt(Self.text(i))) }
        #expect(throws: SenderKeyError.tooFarAhead) { try bob.decrypt(messages[Int(SenderKeyReceiver.maxSkip) + 1]) }
        let farthest = try bob.decrypt(messages[Int(SenderKeyReceiver.maxSkip)])
        #expect(farthest == Self.text(Int(SenderKeyReceiver.maxSkip)))
        #expect(bob.skippedCount == Int(SenderKeyReceiver.maxSkip))
        let first = try bob.decrypt(messages[0])
        #expect(first == Self.text(0))
        #expect(bob.skippedCount == Int(SenderKeyReceiver.maxSkip) - 1)

        // Two more gaps of maxSkip: the kept keys stop at skippedCapacity, the oldest let go.
        for _ in 0..<(2 * Int(SenderKeyReceiver.maxSkip) + 1) { messages.append(try sender.encrypt(Self.text(messages.count))) }
        let middle = try bob.decrypt(messages[2 * Int(SenderKeyReceiver.maxSkip) + 1])
        #expect(middle == Self.text(2 * Int(SenderKeyReceiver.maxSkip) + 1))
        let last = try bob.decrypt(messages[messages.count - 1])
        #expect(last == Self.text(messages.count - 1))
        #expect(bob.skippedCount == SenderKeyReceiver.skippedCapacity)
        #expect(throws: SenderKeyError.duplicate, "the oldest skipped key was let go") { try bob.decrypt(messages[1]) }
        let kept = try bob.decrypt(messages[messages.count - 2])
        #expect(kept == Self.text(messages.count - 2))
    }

    @Test func aDistributionSurvivesItsEncoding() throws {
        var sender = Self.chain("alice")
        _ = try sender.encrypt(Self.text(0))
        let distribution = sender.distribution
        let bytes = distribution.encoded
        #expect(bytes.count == SenderKeyDistribution.encodedLength)
        let decoded = try SenderKeyDistribution.decode(bytes)
        #expect(decoded == distribution && decoded.iteration == 1)
        var bob = SenderKeyReceiver(decoded)
        let plaintext = try bob.decrypt(sender.encrypt(Self.text(1)))
        #expect(plaintext == Self.text(1))
    }

    @Test func decodersRefuseTruncatedOversizedMalformedAndRandomInput() throws {
        var sender = Self.chain("alice")
        let message = try sender.encrypt(Self.text(0)).encoded
        let distribution = sender.distribution.encoded
        #expect(try SenderKeyMessage.decode(message, maxPlaintext: 64).encoded == message)
        for length in 0..<message.count {
            guard length < SenderKeyFormat.overhead else { break }
            #expect(throws: DecodeError.self) { try SenderKeyMessage.decode(Array(message.prefix(length)), maxPlaintext: 64) }
        }
        for length in 0..<distribution.count {
            #expect(throws: DecodeError.self) { try SenderKeyDistribution.decode(Array(distribution.prefix(length))) }
        }
        #expect(throws: DecodeError.self) { try SenderKeyMessage.decode(message + [UInt8](repeating: 0, count: 60), maxPlaintext: 64) }
        #expect(throws: DecodeError.self) { try SenderKeyDistribution.decode(distribution + [0]) }
        var wrongVersion = message
        wrongVersion[0] = 2
        #expect(throws: DecodeError.self) { try SenderKeyMessage.decode(wrongVersion, maxPlaintext: 64) }
        var wrongDistribution = distribution
        wrongDistribution[0] = 0
        #expect(throws: DecodeError.self) { try SenderKeyDistribution.decode(wrongDistribution) }

        var rng = SeededRandom(seed: "sender-key random input")
        var bob = SenderKeyReceiver(sender.distribution)
        let start = bob.next
        for round in 0..<2_000 {
            let count = Int.random(in: 0..<300, using: &rng)
            var input = rng.bytes(count)
            if round % 2 == 0, !input.isEmpty { input[0] = SenderKeyFormat.version }
            _ = try? SenderKeyDistribution.decode(input)
            if let decoded = try? SenderKeyMessage.decode(input, maxPlaintext: 256) {
                #expect(throws: SenderKeyError.self) { try bob.decrypt(decoded) }
            }
        }
        #expect(bob.next == start && bob.skippedCount == 0, "random input moved nothing")
    }
}
