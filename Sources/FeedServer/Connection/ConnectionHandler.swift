import CoreMetrics
import Logging
import NIOCore
import RESP
import Synchronization

/// Sent down every connection's pipeline when the server shuts down: finish
/// the replies in flight, then close.
struct DrainConnectionEvent: Sendable {}

/// One client connection: the NIO shell around `ConnectionStateMachine`.
/// It frames requests out of the bytes it reads, runs each command in order,
/// and performs what the state machine decides: which replies go out and
/// when (one buffer flushed per read batch, so a pipeline of a thousand
/// PINGs costs one write), when input is held, when the connection closes.
///
/// Everything here runs on the connection's event loop; what other threads
/// may see of it is in `ClientRecord`.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A reply buffer above this is handed to the channel mid-batch, so one
    /// batch of large replies never sits in our own buffer unbounded.
    private static let replyChunkSize = 64 * 1024

    private let server: ServerContext
    private var state: ConnectionState
    private var machine: ConnectionStateMachine
    private var decoder: RESPCommandDecoder
    /// Counters of the current read batch, added to the record's once per batch.
    private var batch = TrafficCounters.Snapshot()
    /// Calls and time of the command running over and over, added to its stats in batches.
    private var tally = CommandTally()
    /// When the last command finished (or the read began), in uptime nanoseconds.
    private var timeMark: UInt64 = 0
    /// True while bytes written to the channel wait for a flush.
    private var unflushed = false
    /// The last command as last published to the record.
    private var publishedCommand: ObjectIdentifier?
    /// True once the client counts against `--maxclients`.
    private var registered = false
    /// This handler's context, for replies that complete later on the event loop.
    private var context: ChannelHandlerContext?
    /// While subscribed: how its unsent output stands against the pubsub limits.
    private var outputLimit = OutputLimitWatch()

    init(server: ServerContext, channel: any Channel) {
        self.server = server
        self.decoder = RESPCommandDecoder(limits: server.configuration.decoderLimits)
        self.machine = ConnectionStateMachine(outputLimit: server.configuration.clientOutputLimit)
        let record = ClientRecord(id: server.clients.nextID(), channel: channel, now: WallClock.milliseconds())
        self.state = ConnectionState(
            record: record,
            authenticated: server.configuration.requirePass == nil,
            reply: ReplyWriter(buffer: channel.allocator.buffer(capacity: 1024), errors: server.errors)
        )
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let target = PushTarget(clientID: self.state.id, eventLoop: context.eventLoop, version: self.state.reply.version)
        target.attach(self)
        self.state.pushTarget = target
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.leavePubSub()
        self.context = nil
    }

    /// The connection goes: its subscriptions go, and the push target lets
    /// go of the handler.
    private func leavePubSub() {
        guard let target = self.state.pushTarget else { return }
        self.server.pubsub.removeAll(target, self.state.subscriptions)
        self.state.subscriptions = SubscriptionSet()
        target.attach(nil)
        self.state.pushTarget = nil
    }

    // MARK: Admission

    func channelActive(context: ChannelHandlerContext) {
        let configuration = self.server.configuration
        if configuration.protectedMode && configuration.requirePass == nil,
            let peer = context.channel.remoteAddress, !peer.isLoopback
        {
            self.server.logger.warning(
                "Refused a client in protected mode", metadata: ["address": "\(self.state.record.address)"])
            return self.refuse(context: context, message: RedisError.protectedMode)
        }
        guard self.server.clients.register(self.state.record, maxClients: configuration.maxClients) else {
            return self.refuse(context: context, message: RedisError.maxClients)
        }
        self.registered = true
        self.server.stats.connectionsReceived.add(1, ordering: .relaxed)
        self.machine.admitted()
        context.fireChannelActive()
    }

    /// Sends one error line, then closes: the client never becomes a client.
    private func refuse(context: ChannelHandlerContext, message: String) {
        self.server.stats.rejectedConnections.add(1, ordering: .relaxed)
        var buffer = context.channel.allocator.buffer(capacity: message.utf8.count + 3)
        buffer.writeRESPError(message)
        context.write(Self.wrapOutboundOut(buffer), promise: nil)
        self.perform(self.machine.refused(), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.machine.inactive()
        self.leavePubSub()
        self.publishBatch()
        if self.registered {
            // Fold this connection's totals into the server's as it leaves.
            self.server.stats.closed.add(self.state.record.traffic.snapshot)
            self.server.clients.unregister(id: self.state.id)
            self.registered = false
        }
        context.fireChannelInactive()
    }

    // MARK: Reading and running requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Self.unwrapInboundIn(data)
        guard self.machine.phase == .open else { return }
        self.timeMark = NIODeadline.now().uptimeNanoseconds
        self.batch.inputBytes += bytes.readableBytes
        self.state.record.lastInteractionMilliseconds.store(WallClock.milliseconds(), ordering: .relaxed)
        guard var input = self.machine.received(bytes) else { return }  // held while a command waits
        self.process(&input, context: context)
        self.machine.keep(input)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.writeReplies(context: context, flush: true)
        self.publishBatch()
        context.fireChannelReadComplete()
    }

    private func process(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        while self.machine.runsCommands {
            self.decoder.unauthenticated = !self.state.authenticated
            let command: RESPCommand
            do {
                guard let next = try self.decoder.next(&buffer) else { return }
                command = next
            } catch {
                return self.protocolError(error, context: context)
            }
            self.execute(command, context: context)
            if self.state.afterReply == .close {
                return self.perform(self.machine.close(after: self.takeReplies(context: context)), context: context)
            }
            if self.state.reply.buffer.readableBytes >= Self.replyChunkSize {
                self.writeReplies(context: context, flush: false)
            }
        }
    }

    private func execute(_ command: RESPCommand, context: ChannelHandlerContext) {
        let arguments = command.arguments
        let table = self.server.commands
        guard let base = table.entry(arguments[0]) else {
            return self.reject(
                RedisError.unknownCommand(
                    String(buffer: arguments[0]), arguments: arguments.dropFirst().lazy.map { String(buffer: $0) }),
                counting: nil)
        }
        var entry = base
        if arguments.count >= 2 && !base.subcommands.isEmpty {
            guard let sub = table.subentry(arguments[1], of: base) else {
                return self.reject(
                    RedisError.unknownSubcommand(String(buffer: arguments[1]), of: base.spec.fullName), counting: base.stats)
            }
            entry = sub
        }
        let spec = entry.spec
        if self.state.inSubscribedMode && !PubSubCommands.allowedWhileSubscribed.contains(base.spec.fullName) {
            return self.reject(PubSubCommands.notAllowed(spec.fullName), counting: entry.stats)
        }
        guard spec.acceptsArgumentCount(arguments.count), let handler = spec.handler else {
            return self.reject(RedisError.wrongArity(spec.fullName), counting: entry.stats)
        }
        guard self.state.authenticated || spec.allowedBeforeAuth else {
            return self.reject(RedisError.noAuth, counting: entry.stats)
        }
        // A cluster node serves the users of its own slots and redirects the rest.
        if let cluster = self.server.cluster, spec.firstKey > 0, arguments.count > spec.firstKey,
            let redirect = cluster.redirect(forKey: arguments[spec.firstKey])
        {
            return self.reject(redirect, counting: entry.stats)
        }
        if ObjectIdentifier(spec) != self.publishedCommand {
            self.publishedCommand = ObjectIdentifier(spec)
            self.state.record.lastCommand.store(Unmanaged.passUnretained(spec), ordering: .relaxed)
        }
        self.batch.commands += 1
        let replyStart = self.state.reply.buffer.writerIndex
        let errorsBefore = self.state.reply.errorCount
        handler(CommandCall(arguments: arguments, server: self.server, eventLoop: context.eventLoop), &self.state)
        if self.state.reply.errorCount != errorsBefore { entry.stats.failedCalls.add(1, ordering: .relaxed) }
        self.measure(entry, arguments: arguments)
        if let deferred = self.state.deferred {
            self.state.deferred = nil
            self.defer(deferred, replyStart: replyStart, context: context)
        }
    }

    /// A command refused before it ran: its error, counted as Redis counts
    /// rejected calls.
    private func reject(_ message: String, counting stats: CommandStats?) {
        stats?.rejectedCalls.add(1, ordering: .relaxed)
        self.state.reply.error(message)
        self.timeMark = NIODeadline.now().uptimeNanoseconds
    }

    /// Counts a command's call and time (since the previous command ended, or
    /// the read began: framing it is part of its cost), and logs it if slow.
    private func measure(_ entry: CommandTable.Entry, arguments: [ByteBuffer]) {
        let now = NIODeadline.now().uptimeNanoseconds
        let elapsed = Int(truncatingIfNeeded: now &- self.timeMark)
        self.timeMark = now
        self.tally.add(entry.stats, nanoseconds: elapsed)
        entry.stats.latency.recordNanoseconds(Int64(elapsed))
        let slowlog = self.server.slowlog
        if slowlog.wants(elapsed / 1000) && !entry.spec.skipsSlowlog {
            slowlog.record(
                arguments: arguments, microseconds: elapsed / 1000, peer: self.state.record.address,
                clientName: self.state.record.details.withLock { $0.name }, now: WallClock.milliseconds() / 1000)
        }
    }

    // MARK: Replies that wait

    /// Queues a reply that cannot go yet. What was written before it may go
    /// at once; everything after it waits behind it.
    private func `defer`(_ deferred: ConnectionState.DeferredReply, replyStart: Int, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        switch deferred {
        case .untilCommitted(let lsn):
            guard let journal = self.server.persistence?.journal, journal.committed.load(ordering: .acquiring) < lsn else {
                return  // already durable: the reply goes like any other
            }
            let buffer = self.state.reply.buffer
            let earlier = buffer.getSlice(at: buffer.readerIndex, length: replyStart - buffer.readerIndex)!
            let own = buffer.getSlice(at: replyStart, length: buffer.writerIndex - replyStart)!
            self.state.reply.buffer = context.channel.allocator.buffer(capacity: 1024)
            let (ticket, actions) = self.machine.wait(after: earlier, blocking: false)
            self.perform(actions, context: context)
            journal.whenCommitted(lsn, on: context.eventLoop).whenSuccess {
                loopBound.value.resolve(ticket, with: own, blocking: false)
            }
        case .future(let future), .blocking(let future):
            let blocking: Bool
            if case .blocking = deferred { blocking = true } else { blocking = false }
            let earlier = self.state.reply.buffer
            self.state.reply.buffer = context.channel.allocator.buffer(capacity: 1024)
            let (ticket, actions) = self.machine.wait(after: earlier, blocking: blocking)
            self.perform(actions, context: context)
            future.hop(to: context.eventLoop).whenComplete { result in
                let bytes: ByteBuffer
                switch result {
                case .success(let reply): bytes = reply
                case .failure(let error):
                    var failure = ByteBuffer()
                    failure.writeRESPError("ERR \(error)")
                    bytes = failure
                }
                loopBound.value.resolve(ticket, with: bytes, blocking: blocking)
            }
        }
    }

    /// A waiting reply is ready: send whatever may go now (and, if it
    /// blocked the connection, run what the client sent meanwhile).
    private func resolve(_ ticket: ConnectionStateMachine.Ticket, with bytes: ByteBuffer, blocking: Bool) {
        if bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) == UInt8(ascii: "-") {
            self.server.errors.record(reply: bytes)
            self.state.reply.errorCount += 1
        }
        guard let context = self.context else { return }
        self.perform(self.machine.resolved(ticket, with: bytes, blocking: blocking), context: context)
        self.publishBatch()
    }

    // MARK: Pushed messages

    /// A published message for this connection (on its event loop, between
    /// reads): it goes out now, or behind the replies that wait.
    /// `PushTarget` hands over what arrived together as one batch, flushed at once.
    func push(_ message: ByteBuffer) {
        guard let context = self.context else { return }
        self.perform(self.machine.push(message), context: context)
        self.checkSubscriberLimits(context: context)
    }

    /// Redis's pubsub output limits: past the hard one, or over the soft one
    /// for longer than allowed, the subscriber is closed with one log line.
    private func checkSubscriberLimits(context: ChannelHandlerContext) {
        let limit = self.server.configuration.pubsubOutputLimit
        guard self.machine.phase == .open, !self.state.subscriptions.isEmpty else { return }
        // What the socket has not taken yet (0 where the channel cannot say).
        let unsent = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        guard self.outputLimit.isExceeded(unsent: unsent, limit) else { return }
        self.server.stats.outputLimitDisconnections.add(1, ordering: .relaxed)
        self.server.logger.warning(
            "Subscriber closed for overcoming of output buffer limits",
            metadata: [
                "client_id": "\(self.state.id)", "address": "\(self.state.record.address)", "unsent_bytes": "\(unsent)",
                "limit": "\(limit.description)",
            ])
        _ = self.machine.cutOff()  // nothing more goes out: closed here, with its own log line
        context.close(promise: nil)
    }

    // MARK: Performing the state machine's actions

    private func perform(_ actions: [ConnectionStateMachine.Action], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .write(let bytes):
                self.batch.outputBytes += bytes.readableBytes
                context.write(Self.wrapOutboundOut(bytes), promise: nil)
                self.unflushed = true
            case .flush:
                if self.unflushed {
                    self.unflushed = false
                    context.flush()
                }
            case .closeAfterWrites:
                let channel = context.channel
                let promise = context.eventLoop.makePromise(of: Void.self)
                // An empty write completes after every write queued before it.
                context.writeAndFlush(Self.wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
                self.unflushed = false
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            case .close:
                context.close(promise: nil)
            case .closeForOutputLimit:
                self.closeForOutputLimit(context: context)
            case .stopReading:
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            case .resumeReading:
                context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            case .run(var input):
                self.timeMark = NIODeadline.now().uptimeNanoseconds
                self.process(&input, context: context)
                self.machine.keep(input)
                self.writeReplies(context: context, flush: true)
            }
        }
    }

    /// Redis's answer to a request it cannot frame: the error, then close.
    private func protocolError(_ error: RESPProtocolError, context: ChannelHandlerContext) {
        self.server.stats.protocolErrors.add(1, ordering: .relaxed)
        self.server.logger.debug(
            "Protocol error from client",
            metadata: ["client": "\(self.state.record.address)", "error": "\(error.message)"])
        error.write(into: &self.state.reply.buffer)
        self.state.reply.errorCount += 1
        self.server.errors.record(message: "ERR")
        self.perform(self.machine.close(after: self.takeReplies(context: context)), context: context)
    }

    // MARK: Writing replies

    /// Hands the replies written so far to the state machine, which sends
    /// them (or queues them behind a waiting reply). The reply buffer's
    /// storage is reused when the socket took the bytes at once (the usual
    /// case); a buffer grown large by one big reply is dropped rather than
    /// kept per connection.
    private func writeReplies(context: ChannelHandlerContext, flush: Bool) {
        self.perform(self.machine.replies(self.state.reply.buffer, flush: flush), context: context)
        if self.state.reply.buffer.capacity > Self.replyChunkSize * 2 {
            self.state.reply.buffer = context.channel.allocator.buffer(capacity: 1024)
        } else {
            self.state.reply.buffer.clear()
        }
    }

    /// The replies written so far, leaving an empty buffer.
    private func takeReplies(context: ChannelHandlerContext) -> ByteBuffer {
        let bytes = self.state.reply.buffer
        self.state.reply.buffer = context.channel.allocator.buffer(capacity: 1024)
        return bytes
    }

    private func publishBatch() {
        self.tally.publish()
        self.batch.errorReplies += self.state.reply.errorCount
        self.state.reply.errorCount = 0
        guard !self.batch.isEmpty else { return }
        self.state.record.traffic.add(self.batch)
        self.batch = TrafficCounters.Snapshot()
    }

    // MARK: Events

    /// The channel stops being writable when unsent replies pass the output
    /// limit (the channel's high water mark is set to it): the client is not
    /// reading, so it is cut off rather than allowed to grow our memory.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable { self.perform(self.machine.unwritable(), context: context) }
        context.fireChannelWritabilityChanged()
    }

    private func closeForOutputLimit(context: ChannelHandlerContext) {
        self.server.stats.outputLimitDisconnections.add(1, ordering: .relaxed)
        self.server.logger.warning(
            "Client closed for overcoming of output buffer limits",
            metadata: [
                "client_id": "\(self.state.id)", "address": "\(self.state.record.address)",
                "limit_bytes": "\(self.server.configuration.clientOutputLimit)",
            ])
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is DrainConnectionEvent:
            self.perform(self.machine.close(after: self.takeReplies(context: context)), context: context)
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            guard self.machine.phase == .open else { return }
            self.server.logger.debug("Closing idle client", metadata: ["client": "\(self.state.record.address)"])
            self.perform(self.machine.idle(), context: context)
        case let channelEvent as ChannelEvent where channelEvent == .inputClosed:
            // The client has sent all it will; answer what it sent, then close.
            guard self.machine.phase == .open else { return }
            self.perform(self.machine.close(after: self.takeReplies(context: context)), context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.server.logger.debug(
            "Connection error", metadata: ["client": "\(self.state.record.address)", "error": "\(error)"])
        self.machine.inactive()
        context.close(promise: nil)
    }
}
