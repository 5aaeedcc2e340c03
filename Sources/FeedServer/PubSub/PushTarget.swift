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
    /// The hop to the connection's loop, shared by the connections there.
    private let outbox: LoopOutbox

    init(clientID: Int64, outbox: LoopOutbox, version: RESPVersion) {
        self.clientID = clientID
        self.eventLoop = outbox.eventLoop
        self.outbox = outbox
        self.version = Atomic(version.rawValue)
        self.handler = NIOLoopBoundBox(nil, eventLoop: outbox.eventLoop)
    }

    var protocolVersion: RESPVersion {
        get { RESPVersion(rawValue: self.version.load(ordering: .relaxed)) ?? .resp2 }
        set { self.version.store(newValue.rawValue, ordering: .relaxed) }
    }

    /// Sets (or clears) the connection that receives the messages; on the event loop.
    func attach(_ handler: ConnectionHandler?) {
        self.handler.value = handler
    }

    /// Hands a message to the connection, from any thread, through its
    /// loop's outbox: messages that arrive together leave together.
    func deliver(_ message: PushMessage) {
        self.outbox.post(message, to: self)
    }

    /// On the loop: formats a batch in the connection's protocol into one
    /// buffer, which leaves in one write.
    func write(_ messages: [PushMessage]) {
        guard let handler = self.handler.value else { return }
        let version = self.protocolVersion
        var batch = ByteBuffer()
        batch.reserveCapacity(messages.reduce(0) { $0 + $1.estimatedSize })
        for message in messages { message.write(into: &batch, version: version) }
        handler.push(batch)
    }
}
