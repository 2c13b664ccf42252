internal import Foundation

/// A thread that calls `beat` every `interval` seconds until `stop()`, which returns once the
/// thread has finished (so nothing runs after the server stopped).
final class Heartbeat: @unchecked Sendable {
    // @unchecked: `stopped` and `finished` are read and written only with `condition` locked.
    private let condition = NSCondition()
    private var stopped = false
    private var finished = false

    init(interval: Double, name: String = "secirc-http-heartbeat", beat: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            condition.lock()
            while !stopped {
                let next = Date().addingTimeInterval(interval)
                while !stopped && Date() < next { _ = condition.wait(until: next) }
                if stopped { break }
                condition.unlock()
                beat()
                condition.lock()
            }
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = name
        thread.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
