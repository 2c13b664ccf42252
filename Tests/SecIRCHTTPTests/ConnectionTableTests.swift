@testable import SecIRCHTTP
import Testing

@Suite("Connection table")
struct ConnectionTableTests {
    static let second: Int64 = 1_000_000_000
    static let a = PeerKey.v4(0x7f00_0001)
    static let b = PeerKey.v4(0x7f00_0002)

    static func table(limit: Int = 2) -> ConnectionTable {
        ConnectionTable(perPeerLimit: limit, headerTimeoutNanoseconds: 10 * second, idleAllowanceNanoseconds: 30 * second)
    }

    func admit(_ table: inout ConnectionTable, _ peer: PeerKey) -> Bool { table.admit(peer) }
    func overdue(_ table: inout ConnectionTable, _ now: Int64) -> [Int32] { table.overdue(now: now) }

    @Test("a peer at its limit is refused and counted; others are not; a close frees a slot")
    func perPeer() {
        var table = Self.table()
        #expect(admit(&table, Self.a) == true)
        table.opened(1, descriptor: 11, peer: Self.a, now: 0)
        #expect(admit(&table, Self.a) == true)
        table.opened(2, descriptor: 12, peer: Self.a, now: 0)
        #expect(admit(&table, Self.a) == false)
        #expect(admit(&table, Self.b) == true)
        #expect(table.refusedPerPeer == 1)
        table.closed(1)
        #expect(admit(&table, Self.a) == true)
        table.closed(2)
        table.closed(2)
        #expect(table.perPeer.isEmpty)
        #expect(table.count == 0)
    }

    @Test("no limit when 0")
    func unlimited() {
        var table = Self.table(limit: 0)
        for id in 0..<100 {
            #expect(admit(&table, Self.a) == true)
            table.opened(UInt(id), descriptor: Int32(id), peer: Self.a, now: 0)
        }
        #expect(table.refusedPerPeer == 0)
    }

    @Test("headers late: the socket is returned once; headers in time, or a closed connection, never")
    func deadlines() {
        var table = Self.table()
        table.opened(1, descriptor: 11, peer: Self.a, now: 0)
        table.opened(2, descriptor: 12, peer: Self.b, now: 0)
        table.opened(3, descriptor: 13, peer: Self.b, now: 0)
        table.headersArrived(2)
        table.closed(3)
        #expect(overdue(&table, 10 * Self.second - 1).isEmpty)
        #expect(overdue(&table, 10 * Self.second) == [11])
        #expect(overdue(&table, 20 * Self.second).isEmpty)
        #expect(table.closedAtDeadline == 1)
        #expect(table.count == 2)
    }

    @Test("after a response the next request's headers are due after the idle allowance plus the deadline")
    func keptAlive() {
        var table = Self.table()
        table.opened(1, descriptor: 11, peer: Self.a, now: 0)
        table.headersArrived(1)
        table.responseEnded(1, now: 5 * Self.second)
        #expect(overdue(&table, 44 * Self.second).isEmpty)
        #expect(overdue(&table, 45 * Self.second) == [11])
        table.responseEnded(9, now: 0)
        #expect(table.count == 1)
    }

    @Test("the next deadline: none without connections or once headers are in; else the earliest")
    func nextDeadline() {
        var table = Self.table()
        #expect(table.nextDeadline == nil, "no connection: the deadline thread sleeps")
        table.opened(1, descriptor: 11, peer: Self.a, now: 3 * Self.second)
        table.opened(2, descriptor: 12, peer: Self.b, now: 1 * Self.second)
        #expect(table.nextDeadline == 11 * Self.second)
        table.headersArrived(2)
        #expect(table.nextDeadline == 13 * Self.second)
        table.headersArrived(1)
        #expect(table.nextDeadline == nil, "every request is being answered")
        table.responseEnded(1, now: 20 * Self.second)
        #expect(table.nextDeadline == 60 * Self.second)
        table.closed(1)
        table.closed(2)
        #expect(table.nextDeadline == nil)
    }

    @Test("peer keys: IPv4, IPv4-mapped IPv6 as IPv4, IPv6 by /64")
    func peerKeys() {
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]
        #expect(PeerKey(ipv6: mapped) == Self.a)
        var one: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 8)
        let first = PeerKey(ipv6: one)
        one[15] = 0x42
        #expect(PeerKey(ipv6: one) == first)
        one[7] = 2
        #expect(PeerKey(ipv6: one) != first)
        #expect(PeerKey(nil) == .other)
    }
}
