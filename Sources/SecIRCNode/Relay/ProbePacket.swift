import SecIRCCore
import SecIRCCrypto

/// One packet of a first-ring member's forwarding probe (``RelayEngine/probeChallenged(now:rng:effects:)``):
/// the address it is delivered to back at the member, the relay it went through, when that
/// relay's challenge began, and when it counts as lost.
struct ProbePacket: Sendable {
    let tag: Bytes32
    let relay: ID
    let challenge: UnixTime
    let due: UnixTime
}
