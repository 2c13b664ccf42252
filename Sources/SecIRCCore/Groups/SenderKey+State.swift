import SecIRCCrypto

/// Storage forms of the sender chains, inside a ``GroupSession``'s state (the group ID, and a
/// receiver's chain ID, are the session's to give back):
/// ```
/// chain    = chain ID (4) | iteration (4) | chain key (32) | signing key seed (32)
/// receiver = signing public key (32) | next (4) | chain key (32)
///            | skipped count (2, ≤ 2,000) | (iteration (4) | message key (64)) × count, oldest first
/// ```
extension SenderKeyChain {
    func writeState(to w: inout ByteWriter) {
        w.write(chainID)
        w.write(iteration)
        w.writeSecret(chainKey)
        w.writeSecret(signing.seed())
    }

    init(groupID: Bytes32, state r: inout ByteReader) throws {
        self.groupID = groupID
        chainID = try r.readUInt32()
        iteration = try r.readUInt32()
        chainKey = try r.readSymmetricKey()
        signing = try SigningPrivateKey(seed: r.readSecret(SigningPrivateKey.seedByteCount))
    }
}

extension SenderKeyReceiver {
    /// Whether `other` is this chain at the same point: the same signing key, next iteration and
    /// skipped keys (the chain key follows from where the chain is; compared without its bytes).
    func hasSameState(as other: SenderKeyReceiver) -> Bool {
        signingKey == other.signingKey && chainID == other.chainID && next == other.next && skippedOrder == other.skippedOrder
    }

    func writeState(to w: inout ByteWriter) {
        w.write(signingKey.rawValue)
        w.write(next)
        w.writeSecret(chainKey)
        w.write(UInt16(skippedOrder.count))
        for iteration in skippedOrder {
            w.write(iteration)
            w.writeSecret(skipped[iteration]!) // every iteration in the order has its key
        }
    }

    /// Throws for more than ``skippedCapacity`` skipped keys, one twice, or one at or past `next`.
    init(groupID: Bytes32, chainID: UInt32, state r: inout ByteReader) throws {
        let signingKey = SigningPublicKey(rawValue: try r.readBytes32())
        let next = try r.readUInt32()
        let chainKey = try r.readSymmetricKey()
        self.init(SenderKeyDistribution(groupID: groupID, chainID: chainID, iteration: next, chainKey: chainKey, signingKey: signingKey))
        let count = try r.readCount(UInt16.self, max: Self.skippedCapacity, of: "skipped sender keys")
        skippedOrder.reserveCapacity(count)
        for _ in 0..<count {
            let iteration = try r.readUInt32()
            guard iteration < next, skipped[iteration] == nil else {
                throw DecodeError.invalidValue("skipped sender key \(iteration) (next \(next))")
            }
            skipped[iteration] = try r.readSecret(RatchetKDF.messageKeyLength)
            skippedOrder.append(iteration)
        }
    }
}
