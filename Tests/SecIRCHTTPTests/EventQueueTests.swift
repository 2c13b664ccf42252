@testable import SecIRCHTTP
import Testing

/// The event stream state machine without I/O, and the SSE wire form.
@Suite("Event queue")
struct EventQueueTests {
    static func read(_ queue: inout EventQueue, max: Int = 1024) -> (EventQueue.Read, [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: max)
        let result = buffer.withUnsafeMutableBytes { queue.read(into: $0) }
        if case let .bytes(n) = result { return (result, Array(buffer[..<n])) }
        return (result, [])
    }

    @Test("empty open queue suspends; enqueue then asks to resume exactly once")
    func suspendResume() {
        var queue = EventQueue(capacity: 4)
        #expect(Self.read(&queue).0 == .suspend)
        #expect(queue.suspended)
        #expect(queue.enqueue(Array("a".utf8)) == .resume)
        #expect(!queue.suspended)
        #expect(queue.enqueue(Array("b".utf8)) == .none)
        #expect(Self.read(&queue).1 == Array("ab".utf8))
    }

    @Test("close: queued bytes first, then end; resume if suspended; enqueue ignored after")
    func close() {
        var queue = EventQueue(capacity: 4)
        _ = queue.enqueue(Array("x".utf8))
        #expect(queue.close() == .none)
        #expect(queue.close() == .none)
        #expect(queue.enqueue(Array("y".utf8)) == .none)
        #expect(Self.read(&queue).1 == Array("x".utf8))
        #expect(Self.read(&queue).0 == .end)

        var idle = EventQueue(capacity: 4)
        _ = Self.read(&idle)
        #expect(idle.close() == .resume)
        #expect(Self.read(&idle).0 == .end)
    }

    @Test("partial reads keep event boundaries")
    func partial() {
        var queue = EventQueue(capacity: 4)
        _ = queue.enqueue(Array("hello".utf8))
        _ = queue.enqueue(Array("world".utf8))
        #expect(Self.read(&queue, max: 3).1 == Array("hel".utf8))
        #expect(Self.read(&queue, max: 4).1 == Array("lowo".utf8))
        #expect(Self.read(&queue, max: 100).1 == Array("rld".utf8))
        #expect(Self.read(&queue).0 == .suspend)
    }

    @Test("full: the oldest unstarted event is dropped and counted")
    func overflow() {
        var queue = EventQueue(capacity: 2)
        for text in ["1", "2", "3"] { _ = queue.enqueue(Array(text.utf8)) }
        #expect(queue.dropped == 1)
        #expect(Self.read(&queue).1 == Array("23".utf8))

        var started = EventQueue(capacity: 2)
        _ = started.enqueue(Array("aaaa".utf8))
        _ = started.enqueue(Array("bbbb".utf8))
        #expect(Self.read(&started, max: 2).1 == Array("aa".utf8))
        _ = started.enqueue(Array("cccc".utf8))   // "aaaa" is half sent: "bbbb" goes
        #expect(started.dropped == 1)
        #expect(Self.read(&started).1 == Array("aacccc".utf8))

        var single = EventQueue(capacity: 1)
        _ = single.enqueue(Array("aaaa".utf8))
        _ = Self.read(&single, max: 1)
        _ = single.enqueue(Array("new".utf8))      // nothing else to drop: the new one goes
        #expect(single.dropped == 1)
        #expect(Self.read(&single).1 == Array("aaa".utf8))
    }

    @Test("a keep-alive is queued only when nothing waits")
    func idleOnly() {
        var queue = EventQueue(capacity: 2)
        _ = Self.read(&queue)
        #expect(queue.enqueueIfIdle(Array(":\n\n".utf8)) == .resume)
        #expect(queue.enqueueIfIdle(Array(":\n\n".utf8)) == .none)
        _ = queue.enqueue(Array("e".utf8))
        #expect(queue.dropped == 0)
        #expect(Self.read(&queue).1 == Array(":\n\ne".utf8))
    }

    @Test("detach closes and forgets")
    func detach() {
        var queue = EventQueue(capacity: 4)
        _ = Self.read(&queue)
        queue.detach()
        #expect(queue.closed)
        #expect(!queue.suspended)
        #expect(queue.enqueue(Array("x".utf8)) == .none)
        #expect(Self.read(&queue).0 == .end)
    }

    @Test("long runs stay bounded and ordered")
    func longRun() {
        var queue = EventQueue(capacity: 8)
        var out: [UInt8] = []
        for i in 0..<1_000 {
            _ = queue.enqueue([UInt8(i % 256)])
            if i % 3 == 0 { out += Self.read(&queue, max: 2).1 }
            #expect(queue.count <= 8)
        }
        #expect(out.count + queue.count + queue.dropped == 1_000)
    }

    @Test("wire form", arguments: [
        (nil, "x", nil, "data: x\n\n"),
        ("tick", "", "7", "id: 7\nevent: tick\ndata: \n\n"),
        ("a\nb", "l1\r\nl2\rl3\nl4", "i\r\nd", "id: id\nevent: ab\ndata: l1\ndata: l2\ndata: l3\ndata: l4\n\n"),
        (nil, "trailing\n", nil, "data: trailing\ndata: \n\n"),
    ] as [(String?, String, String?, String)])
    func wire(event: String?, data: String, id: String?, expected: String) {
        #expect(String(decoding: HTTPEventStream.encode(event: event, data: data, id: id), as: UTF8.self) == expected)
    }
}
