import NIOCore
import RESP
import Synchronization

/// Where the server pushes pub/sub messages for one connection: a handle
/// other threads may hold, which hands each message to the connection on
/// its own event loop. The connection attaches itself while it is open and
/// detaches when it goes (which also breaks the reference cycle).
final class PushTarget: Sendable {
    let clientID: Int64
    let eventLoop: any EventLoop
    /// The protocol the connection speaks, so messages come in its shape.
    private let version: Atomic<Int>
    private let handler: NIOLoopBoundBox<ConnectionHandler?>
    /// Messages on their way to the loop, and whether a hop there is queued.
    private let pending = Mutex<(messages: [PushMessage], scheduled: Bool)>(([], false))

    init(clientID: Int64, eventLoop: any EventLoop, version: RESPVersion) {
        self.clientID = clientID
        self.eventLoop = eventLoop
        self.version = Atomic(version.rawValue)
        self.handler = NIOLoopBoundBox(nil, eventLoop: eventLoop)
    }

    var protocolVersion: RESPVersion {
        get { RESPVersion(rawValue: self.version.load(ordering: .relaxed)) ?? .resp2 }
        set { self.version.store(newValue.rawValue, ordering: .relaxed) }
    }

    /// Sets (or clears) the connection that receives the messages; on the event loop.
    func attach(_ handler: ConnectionHandler?) {
        self.handler.value = handler
    }

    /// Hands a message to the connection, from any thread. Always through
    /// the event loop's queue, even from that loop: a message delivered in
    /// place would overtake those another thread queued there before it.
    /// Messages that arrive while a hop is queued ride along with it: they
    /// are formatted there, in the connection's protocol, into one buffer
    /// that leaves in one write.
    func deliver(_ message: PushMessage) {
        let schedule = self.pending.withLock { pending -> Bool in
            pending.messages.append(message)
            guard !pending.scheduled else { return false }
            pending.scheduled = true
            return true
        }
        guard schedule else { return }
        self.eventLoop.execute {
            let messages = self.pending.withLock { pending -> [PushMessage] in
                pending.scheduled = false
                defer { pending.messages = [] }
                return pending.messages
            }
            guard let handler = self.handler.value else { return }
            let version = self.protocolVersion
            var batch = ByteBuffer()
            batch.reserveCapacity(messages.reduce(0) { $0 + $1.estimatedSize })
            for message in messages { message.write(into: &batch, version: version) }
            handler.push(batch)
        }
    }
}
