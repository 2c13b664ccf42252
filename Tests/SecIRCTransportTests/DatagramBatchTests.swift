import SecIRCTransport
import Testing

@Suite struct DatagramBatchTests {
    @Test func appendFillsSlotsInOrder() throws {
        let batch = DatagramBatch(capacity: 3, maxDatagramSize: 8)
        let first = try SocketAddress(host: "192.0.2.1", port: 1)
        let second = try SocketAddress(host: "2001:db8::2", port: 2)
        #expect(batch.count == 0)
        batch.append([1, 2, 3], to: first)
        batch.append([], to: second)
        #expect(batch.count == 2)
        #expect(batch.length(0) == 3)
        #expect(batch.withDatagram(0) { Array($0) } == [1, 2, 3])
        #expect(batch.length(1) == 0)
        #expect(batch.address(0) == first)
        #expect(batch.address(1) == second)
        batch.removeAll()
        #expect(batch.count == 0)
    }

    @Test func aSlotCanBeWrittenInPlace() throws {
        let batch = DatagramBatch(capacity: 2, maxDatagramSize: 16)
        let target = try SocketAddress(host: "::1", port: 7)
        let written = batch.withSlot(1) { slot -> Int in
            #expect(slot.count == 16)
            for index in 0..<5 { slot[index] = UInt8(index) }
            return 5
        }
        batch.setLength(1, written, address: target)
        batch.count = 2
        #expect(batch.withDatagram(1) { Array($0) } == [0, 1, 2, 3, 4])
        #expect(batch.address(1) == target)

        [UInt8]([9, 9]).withUnsafeBytes { batch.set(0, bytes: $0, to: target) }
        batch.withDatagram(0) { $0[1] = 8 }
        #expect(batch.withDatagram(0) { Array($0) } == [9, 8])
    }

    @Test func anUnfilledSlotHasAnAddress() {
        let batch = DatagramBatch(capacity: 1)
        #expect(batch.address(0).description == "0.0.0.0:0")
        #expect(batch.length(0) == 0)
        #expect(batch.capacity == 1)
        #expect(batch.maxDatagramSize == 2048)
    }
}
