import DequeModule
import NIOCore

/// One connection's state as a value: every event returns the actions the
/// NIO handler performs, in order (postgres-nio's `ConnectionStateMachine`
/// is the model). It knows nothing of sockets or commands: it decides when
/// commands may run, which replies may go out and in what order, when input
/// is held, and when the connection closes. Tested step by step without a
/// network (ConnectionStateMachineTests).
struct ConnectionStateMachine {
    enum Phase: Equatable {
        /// Accepted, not yet admitted (protected mode, maxclients).
        case starting
        /// Reading and answering requests.
        case open
        /// No more requests are run; replies already written go out, then
        /// the connection closes.
        case closing
        case closed
    }

    /// What the handler does, in order.
    enum Action: Equatable {
        /// Hands bytes to the channel (not flushed).
        case write(ByteBuffer)
        case flush
        /// Closes once everything handed to the channel has been written.
        case closeAfterWrites
        /// Closes at once.
        case close
        /// Closes a client that does not read its replies, with its log line.
        case closeForOutputLimit
        /// Stops reading from the socket, or starts again.
        case stopReading
        case resumeReading
        /// Runs the commands in input held while a command waited.
        case run(ByteBuffer)
    }

    /// A reply that waits, by its place in the queue.
    struct Ticket: Hashable {
        fileprivate let number: Int
    }

    private(set) var phase = Phase.starting
    /// A command waits for the store: no further command runs, and no more
    /// is read, until its reply is there.
    private(set) var isBlocked = false
    /// Close once the replies in the queue have gone.
    private var closeWhenDrained = false
    /// Output that may not go yet, in order: ready bytes queued behind a
    /// waiting reply, and the waiting replies themselves.
    private var queue = Deque<(ticket: Ticket?, bytes: ByteBuffer?)>()
    private var nextTicket = 0
    /// Bytes held in the queue, against the output limit.
    private(set) var heldBytes = 0
    /// Input not yet run: a request that has not fully arrived, or what came
    /// while blocked.
    private var input: ByteBuffer?
    let outputLimit: Int

    init(outputLimit: Int) {
        self.outputLimit = outputLimit
    }

    /// Whether another command may run now.
    var runsCommands: Bool { self.phase == .open && !self.isBlocked }

    /// Whether replies are waiting (so new output queues behind them).
    var hasWaitingReplies: Bool { !self.queue.isEmpty }

    // MARK: Admission

    /// Admitted (protected mode and maxclients allow it).
    mutating func admitted() {
        guard self.phase == .starting else { return }
        self.phase = .open
    }

    /// Refused: the error line the handler wrote goes, then the connection closes.
    mutating func refused() -> [Action] {
        self.phase = .closing
        return [.flush, .closeAfterWrites]
    }

    // MARK: Input

    /// Bytes from the socket: the input to run now (with what was left of
    /// the previous read), or nothing while blocked or closing.
    mutating func received(_ bytes: ByteBuffer) -> ByteBuffer? {
        guard self.phase == .open else { return nil }
        var bytes = bytes
        if var held = self.input {
            self.input = nil
            held.writeBuffer(&bytes)
            bytes = held
        }
        if self.isBlocked {
            self.input = bytes
            return nil
        }
        return bytes
    }

    /// What is left of the input after its commands ran: kept for the next
    /// read, compacted once the consumed part dominates.
    mutating func keep(_ rest: ByteBuffer) {
        guard self.phase == .open, rest.readableBytes > 0 else { return }
        var rest = rest
        if rest.readerIndex >= 4096 && rest.readerIndex >= rest.readableBytes { rest.discardReadBytes() }
        self.input = rest
    }

    // MARK: Replies

    /// The replies commands wrote since the last call: they go now, or
    /// behind the replies that wait.
    mutating func replies(_ bytes: ByteBuffer, flush: Bool) -> [Action] {
        if self.queue.isEmpty {
            guard bytes.readableBytes > 0 else { return flush ? [.flush] : [] }
            return flush ? [.write(bytes), .flush] : [.write(bytes)]
        }
        if bytes.readableBytes > 0 {
            self.queue.append((nil, bytes))
            self.heldBytes += bytes.readableBytes
        }
        if self.heldBytes > self.outputLimit { return self.cutOff() }
        return self.sendable(flush: flush)
    }

    /// A command's reply cannot go yet: what the commands before it wrote
    /// (`earlier`) may go; everything after waits behind it. A blocking wait
    /// (the command needs the store) also stops running commands and reading.
    mutating func wait(after earlier: ByteBuffer, blocking: Bool) -> (Ticket, [Action]) {
        var actions: [Action] = []
        if self.queue.isEmpty {
            if earlier.readableBytes > 0 { actions.append(.write(earlier)) }
        } else if earlier.readableBytes > 0 {
            self.queue.append((nil, earlier))
            self.heldBytes += earlier.readableBytes
        }
        let ticket = Ticket(number: self.nextTicket)
        self.nextTicket += 1
        self.queue.append((ticket, nil))
        if blocking && !self.isBlocked {
            self.isBlocked = true
            actions.append(.stopReading)
        }
        return (ticket, actions)
    }

    /// A waiting reply is ready: what may go now. If it was blocking, the
    /// input held meanwhile runs.
    mutating func resolved(_ ticket: Ticket, with bytes: ByteBuffer, blocking: Bool) -> [Action] {
        guard let position = self.queue.firstIndex(where: { $0.ticket == ticket }) else { return [] }
        self.queue[position].bytes = bytes
        self.heldBytes += bytes.readableBytes
        var actions: [Action] = []
        if self.phase == .open || self.phase == .closing { actions += self.sendable(flush: true) }
        if blocking && self.isBlocked {
            self.isBlocked = false
            if self.phase == .open {
                actions.append(.resumeReading)
                if let held = self.input {
                    self.input = nil
                    actions.append(.run(held))
                }
            }
        }
        return actions
    }

    /// The ready output at the front of the queue.
    private mutating func sendable(flush: Bool) -> [Action] {
        var actions: [Action] = []
        while let first = self.queue.first, let bytes = first.bytes {
            self.queue.removeFirst()
            self.heldBytes -= bytes.readableBytes
            if bytes.readableBytes > 0 { actions.append(.write(bytes)) }
        }
        if flush && !actions.isEmpty { actions.append(.flush) }
        if self.queue.isEmpty && self.closeWhenDrained {
            self.closeWhenDrained = false
            actions.append(.closeAfterWrites)
        }
        return actions
    }

    // MARK: Pushed messages

    /// A published message: it goes now, or behind the replies that wait.
    mutating func push(_ message: ByteBuffer) -> [Action] {
        guard self.phase == .open || self.phase == .closing else { return [] }
        // Messages that arrived together come as one (PushTarget batches them).
        if self.queue.isEmpty { return [.write(message), .flush] }
        self.queue.append((nil, message))
        self.heldBytes += message.readableBytes
        if self.heldBytes > self.outputLimit { return self.cutOff() }
        return []
    }

    // MARK: Closing

    /// QUIT, CLIENT KILL of itself, a protocol error, the server draining,
    /// the client closing its half: the replies written so far go, then the
    /// connection closes (after the waiting replies, if any).
    mutating func close(after written: ByteBuffer) -> [Action] {
        guard self.phase == .open || self.phase == .starting else { return [] }
        self.phase = .closing
        self.input = nil
        var actions = self.replies(written, flush: true)
        guard self.phase == .closing else { return actions }  // cut off meanwhile
        if self.queue.isEmpty {
            actions.append(.closeAfterWrites)
        } else {
            self.closeWhenDrained = true
        }
        return actions
    }

    /// Idle past `--timeout`: closed at once.
    mutating func idle() -> [Action] {
        guard self.phase == .open else { return [] }
        self.phase = .closed
        return [.close]
    }

    /// The socket stopped taking bytes past the output limit (the channel's
    /// high water mark): the client is not reading.
    mutating func unwritable() -> [Action] {
        guard self.phase == .open || self.phase == .closing else { return [] }
        return self.cutOff()
    }

    /// The connection is cut off (its output is over a limit): nothing more
    /// goes out.
    mutating func cutOff() -> [Action] {
        guard self.phase != .closed else { return [] }
        return self.cutOffActions()
    }

    private mutating func cutOffActions() -> [Action] {
        self.phase = .closed
        self.queue.removeAll()
        self.heldBytes = 0
        self.input = nil
        return [.closeForOutputLimit]
    }

    /// The channel is gone.
    mutating func inactive() {
        self.phase = .closed
        self.input = nil
    }
}
