import SecIRCCore
import SecIRCFaults
import SecIRCNode
import SecIRCTransport
import Testing

@Suite struct SessionTableTests {
    let clock = ManualClock()

    func address(_ port: UInt16) throws -> SocketAddress { try SocketAddress(numeric: "10.0.0.1:\(port)") }

    @Test func eachSourceGetsASessionAndAPairOfFlows() throws {
        var table = SessionTable<String>(idleTimeout: .seconds(60), capacity: 8)
        #expect(table.use(try address(1), now: clock.now()) == nil)
        let first = try #require(table.add("one", for: try address(1), now: clock.now()))
        let second = try #require(table.add("two", for: try address(2), now: clock.now()))
        #expect(first.flow == 0 && second.flow == 2)
        #expect(table.use(try address(1), now: clock.now())?.session == "one")
        #expect(table.count == 2)
    }

    @Test func aSessionLastsWhileItIsUsed() throws {
        var table = SessionTable<String>(idleTimeout: .seconds(60), capacity: 8)
        _ = table.add("busy", for: try address(1), now: clock.now())
        _ = table.add("idle", for: try address(2), now: clock.now())
        clock.advance(by: .seconds(59))
        _ = table.use(try address(1), now: clock.now())
        #expect(table.removeIdle(now: clock.now()).isEmpty)
        clock.advance(by: .seconds(1))
        #expect(table.removeIdle(now: clock.now()).map(\.session) == ["idle"])
        clock.advance(by: .seconds(58))
        #expect(table.removeIdle(now: clock.now()).isEmpty)
        clock.advance(by: .seconds(1))
        #expect(table.removeIdle(now: clock.now()).map(\.session) == ["busy"])
        #expect(table.count == 0)
    }

    @Test func aFullTableRefusesNewSources() throws {
        var table = SessionTable<Int>(idleTimeout: .seconds(60), capacity: 2)
        #expect(table.add(1, for: try address(1), now: clock.now()) != nil)
        #expect(table.add(2, for: try address(2), now: clock.now()) != nil)
        #expect(table.add(3, for: try address(3), now: clock.now()) == nil)
        #expect(table.removeAll().map(\.session).sorted() == [1, 2])
        #expect(table.add(3, for: try address(3), now: clock.now())?.flow == 4, "flows are never reused")
    }
}
