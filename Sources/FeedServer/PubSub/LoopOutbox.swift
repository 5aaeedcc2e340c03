import NIOCore
import Synchronization

/// Published messages for the connections of one event loop, handed over
/// in one hop per batch rather than one per message: a post that reaches
/// forty subscribers spread over two loops costs two hops, not forty.
/// Messages keep the order they were posted in, per connection.
final class LoopOutbox: Sendable {
    let eventLoop: any EventLoop
    private let pending = Mutex<(items: [(target: PushTarget, message: PushMessage)], scheduled: Bool)>(([], false))

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// From any thread. Always through the loop's queue, even from that
    /// loop: a message delivered in place would overtake those another
    /// thread queued there before it.
    func post(_ message: PushMessage, to target: PushTarget) {
        let schedule = self.pending.withLock { pending -> Bool in
            pending.items.append((target, message))
            guard !pending.scheduled else { return false }
            pending.scheduled = true
            return true
        }
        if schedule { self.eventLoop.execute { self.deliverPending() } }
    }

    /// On the loop: each connection gets what arrived for it as one batch.
    private func deliverPending() {
        let items = self.pending.withLock { pending -> [(target: PushTarget, message: PushMessage)] in
            pending.scheduled = false
            defer { pending.items = [] }
            return pending.items
        }
        if items.count == 1 { return items[0].target.write([items[0].message]) }
        var slots: [ObjectIdentifier: Int] = [:]
        var batches: [(target: PushTarget, messages: [PushMessage])] = []
        for item in items {
            let key = ObjectIdentifier(item.target)
            if let slot = slots[key] {
                batches[slot].messages.append(item.message)
            } else {
                slots[key] = batches.count
                batches.append((item.target, [item.message]))
            }
        }
        for batch in batches { batch.target.write(batch.messages) }
    }
}
