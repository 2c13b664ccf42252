import Foundation
import SecIRCAPI

extension Devnet {
    /// What ``smoke(timeout:label:)`` found.
    public struct SmokeResult: Sendable {
        /// One line per message: who sent it, and whether it was delivered and received.
        public var lines: [String]
        /// True when every message was delivered and received in time.
        public var passed: Bool
    }

    /// The end-to-end check of `secirc devnet --smoke`: the first client sends the second a
    /// message and the second sends one back; passes when, within `timeout` seconds, both are
    /// "delivered" on the sender's side and listed "received" on the receiver's.
    public func smoke(timeout: Double = 60, label: String = "smoke test") throws(DevnetError) -> SmokeResult {
        guard clients.count >= 2 else { return SmokeResult(lines: ["needs two clients"], passed: false) }
        struct Sent {
            var from: Client
            var to: Client
            var id: String
            var text: String
            var sentAt: ContinuousClock.Instant
            var delivered: Duration?
            var received: Duration?
            var senderState = "queued"
        }
        var sent: [Sent] = []
        for (from, to) in [(clients[0], clients[1]), (clients[1], clients[0])] {
            let text = "\(label): \(from.name) to \(to.name) \(UUID().uuidString.prefix(8).lowercased())"
            let message: Message
            do {
                message = try from.api.decode(Message.self, "/v1/conversations/\(to.id)/messages", method: "POST",
                                              json: SendTextRequest(text: text))
            } catch {
                throw .requestFailed(what: "\(from.name): sending to \(to.name)", error: error)
            }
            progress("\(from.name) sent \(to.name) \"\(text)\" (message \(message.id))")
            sent.append(Sent(from: from, to: to, id: message.id, text: text, sentAt: .now))
        }

        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(timeout * 1000)))
        while sent.contains(where: { $0.delivered == nil || $0.received == nil }), ContinuousClock.now < deadline {
            if interrupted() { throw .interrupted }
            try checkChildren()
            for index in sent.indices {
                let s = sent[index]
                if s.delivered == nil, let message = try? s.from.api.decode(Message.self, "/v1/messages/\(s.id)") {
                    sent[index].senderState = message.state
                    if message.state == "delivered" { sent[index].delivered = .now - s.sentAt }
                }
                if s.received == nil,
                   let page = try? s.to.api.decode(MessagePage.self, "/v1/conversations/\(s.from.id)/messages?limit=500"),
                   page.messages.contains(where: { $0.direction == "in" && $0.text == s.text && $0.state == "received" }) {
                    sent[index].received = .now - s.sentAt
                }
            }
            Self.pause()
        }
        let lines = sent.map { s in
            let delivered = s.delivered.map { "delivered after \(Self.seconds($0))" }
                ?? "not delivered within \(Int(timeout)) s (state \(s.senderState))"
            let received = s.received.map { "received by \(s.to.name) after \(Self.seconds($0))" }
                ?? "not received by \(s.to.name) within \(Int(timeout)) s"
            return "\(s.from.name) → \(s.to.name): \(delivered), \(received)"
        }
        return SmokeResult(lines: lines, passed: sent.allSatisfy { $0.delivered != nil && $0.received != nil })
    }

    static func seconds(_ duration: Duration) -> String {
        let c = duration.components
        return String(format: "%.2f s", Double(c.seconds) + Double(c.attoseconds) * 1e-18)
    }
}
