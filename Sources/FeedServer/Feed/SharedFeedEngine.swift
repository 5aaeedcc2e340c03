import CFeedSystem
import NIOCore
import Synchronization
import Timeline

/// The one feed engine of the process and the lock that owns it. Every
/// FEED command takes the lock for the engine call only, then writes its
/// reply after releasing it: exclusively to change the engine, shared for
/// the common reads (FEED.READ from memory, a ranked page's candidates),
/// which then run side by side on both event loops.
///
/// A shared read borrows the engine and leaves what it would have changed
/// (the reader's last-active time, eviction clock bits, counters) in
/// `ReadNotes`, one set per thread stripe; the next exclusive turn applies
/// them before anything else, so the engine sees each read as if it had
/// run alone, before that turn. docs/adr/0003-engine-ownership.md has the
/// measurements behind the lock.
final class SharedFeedEngine: @unchecked Sendable {
    // @unchecked: `engine` is reached only under `lock`, changed only
    // while it is held exclusively, and borrowed, never changed, while it
    // is shared. Each stripe's notes are behind their own mutex.
    private let engine: UnsafeMutablePointer<FeedEngine>
    private let lock = ReadWriteLock()
    private let stripes: [NoteStripe]
    /// Reads one stripe notes before a shared read applies them itself
    /// (a read-only load has no exclusive turns to do it).
    static let notesBound = 1024

    private final class NoteStripe: Sendable {
        let notes: Mutex<ReadNotes>
        init(_ notes: ReadNotes) { self.notes = Mutex(notes) }
    }

    /// Whether the common reads take the lock shared (`--shared-reads`);
    /// else every engine call takes it exclusively, as before it had a
    /// shared mode.
    var sharesReads: Bool {
        get { self.sharedReads.load(ordering: .relaxed) }
        set { self.sharedReads.store(newValue, ordering: .relaxed) }
    }
    private let sharedReads: Atomic<Bool>
    /// Some stripe may hold notes: set by shared reads, cleared by the
    /// exclusive turn that applies them (which then skips the stripes
    /// while reads are exclusive, the default).
    private let notesPending = Atomic<Bool>(false)

    init(configuration: FeedConfiguration, sharedReads: Bool = false) {
        self.sharedReads = Atomic(sharedReads)
        var engine = FeedEngine(configuration: configuration)
        engine.logsNotificationChanges = true  // journaledWrite hands them to FeedEvents
        self.engine = .allocate(capacity: 1)
        self.engine.initialize(to: engine)
        self.stripes = (0..<4).map { NoteStripe(ReadNotes(lane: $0, lanes: 4)) }
    }

    deinit {
        self.engine.deinitialize(count: 1)
        self.engine.deallocate()
    }

    /// Runs `body` with the engine, exclusively (what shared reads noted
    /// applied first).
    func withEngine<Result: Sendable, Failure: Error>(
        _ body: (inout FeedEngine) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try self.lock.withExclusive { () throws(Failure) -> Result in
            if self.notesPending.load(ordering: .relaxed) {
                self.notesPending.store(false, ordering: .relaxed)
                for stripe in self.stripes {
                    stripe.notes.withLock { notes in
                        if !notes.isEmpty { self.engine.pointee.apply(&notes) }
                    }
                }
            }
            return try body(&self.engine.pointee)
        }
    }

    /// Runs `body` with the engine borrowed, alongside other shared reads:
    /// it must not change the engine, and leaves in the notes it is given
    /// what it would have.
    func withEngineShared<Result: Sendable>(_ body: (borrowing FeedEngine, inout ReadNotes) -> Result) -> Result {
        let stripe = self.stripes[Int(feed_thread_slot()) % self.stripes.count]
        var full = false
        let result = self.lock.withShared {
            stripe.notes.withLock { notes in
                let result = Self.lend(&self.engine.pointee, &notes, body)
                // (Ordered by the lock: the exclusive turn that reads it comes after this read leaves.)
                if !notes.isEmpty && !self.notesPending.load(ordering: .relaxed) { self.notesPending.store(true, ordering: .relaxed) }
                full = notes.count >= Self.notesBound
                return result
            }
        }
        if full { self.withEngine { _ in } }  // applies them
        return result
    }

    /// Lends the engine to `body` in place. Taken inout only so that the
    /// compiler lends it without a copy: borrowed straight from the shared
    /// pointer, the engine was copied whole for every read (a retain of
    /// each of its arrays). Nothing writes through it: `body` borrows it.
    @inline(__always)
    private static func lend<Result>(
        _ engine: inout FeedEngine, _ notes: inout ReadNotes, _ body: (borrowing FeedEngine, inout ReadNotes) -> Result
    ) -> Result {
        body(engine, &notes)
    }
}

/// What a journaled write came to.
enum WriteOutcome<Result: Sendable>: Sendable {
    case done(Result, lsn: UInt64?)
    /// The journal is full: TRYAGAIN.
    case refused
    /// Over `--maxmemory` with nothing left to evict: OOM.
    case outOfMemory
    case failed(FeedError)
}

extension ServerContext {
    /// One write: one engine call under the lock, its mutations journaled in
    /// engine order (the journal numbers them as the engine does). Refused,
    /// before the engine is touched, when the journal has no room for
    /// `bytes` more or (for writes that add state) memory is over its bound.
    func journaledWrite<Result: Sendable>(
        bytes: Int, grows: Bool, _ body: (inout FeedEngine) throws(FeedError) -> Result
    ) -> WriteOutcome<Result> {
        let journal = self.persistence?.journal
        let memory = self.memory
        let events = self.feedEvents
        defer { events.drain() }
        return self.feed.withEngine { engine -> WriteOutcome<Result> in
            // Groups the write changed go to `notifications:<user>`, in engine order.
            defer { events.notificationsChanged(&engine) }
            if let journal, !journal.hasRoom(for: bytes) { return .refused }
            if grows {
                let journalBytes = journal?.backlog.bytes ?? 0
                let now = WallClock.milliseconds()
                guard memory.admit(&engine, journalBytes: journalBytes, canEvict: journal != nil, now: now) else {
                    return .outOfMemory
                }
            }
            do throws(FeedError) {
                let result = try body(&engine)
                guard let journal else { return .done(result, lsn: nil) }
                let lsn = journal.append(engine.drainMutations())
                assert(lsn == engine.sequence, "the journal numbers mutations as the engine does")
                return .done(result, lsn: lsn)
            } catch {
                return .failed(error)
            }
        }
    }
}

extension CommandCall {
    /// A write as the command's caller sees it: the result, or the error to
    /// reply with (a store fault among them, for `faulting`). With sync
    /// durability the reply then waits until the write has committed.
    func write<Result: Sendable>(
        bytes: Int, grows: Bool = false, state: inout ConnectionState,
        _ body: (inout FeedEngine) throws(FeedError) -> Result
    ) throws(CommandError) -> Result {
        switch self.server.journaledWrite(bytes: bytes, grows: grows, body) {
        case .done(let result, let lsn):
            if let lsn, self.server.persistence?.isSync == true { state.deferred = .untilCommitted(lsn) }
            return result
        case .refused:
            self.server.persistence?.refusedForFullBacklog(logger: self.server.logger)
            throw CommandError.backlogFull
        case .outOfMemory:
            self.server.memory.refusals.add(1, ordering: .relaxed)
            throw CommandError.outOfMemory
        case .failed(let error):
            throw .feed(error)
        }
    }

    /// One engine call under the lock; an engine refusal becomes `ERR <reason>`.
    func engine<Result: Sendable>(_ body: (inout FeedEngine) throws(FeedError) -> Result) throws(CommandError) -> Result {
        do throws(FeedError) {
            return try self.server.feed.withEngine(body)
        } catch {
            throw .feed(error)
        }
    }
}
