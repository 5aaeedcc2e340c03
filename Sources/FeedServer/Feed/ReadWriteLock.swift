import CFeedSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A lock held by one writer, or by any number of readers at once.
///
/// Writers queue on a `Mutex` (what the engine lock was before readers
/// shared it: its spinning and futex hand-off measured best here, see
/// docs/adr/0003-engine-ownership.md). A reader only adds itself to a
/// count, in one atomic step, when no writer holds or waits for the lock;
/// else it waits its turn behind the writer on that mutex, so a stream of
/// reads never starves a write. A writer, once it holds the mutex, marks
/// the count and waits for the readers inside to leave; they hold it for
/// tens of microseconds (one read), so it spins, yielding the core after a
/// while. (Tried: glibc's writer-preferring rwlock, whose writers sleep
/// until the last reader wakes them; an open loop of half posts, half
/// reads had no better a tail with it: p99 38 / 277 / 155 ms against 57 /
/// 13 / 30 ms here and 2.5 / 4.3 / 8.9 ms with the lock exclusive.)
final class ReadWriteLock: Sendable {
    /// Writers, one at a time.
    private let writers = Mutex<Void>(())
    /// Readers inside, plus `writerMark` while a writer holds the lock or
    /// waits for the readers to leave.
    private let state = Atomic<Int>(0)
    private static var writerMark: Int { 1 << 40 }

    /// Runs `body` with the lock held exclusively.
    func withExclusive<Result: Sendable, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        try self.writers.withLock { (_: inout Void) throws(Failure) -> Result in
            // Acquiring: the writes of every reader that left are visible.
            self.state.wrappingAdd(Self.writerMark, ordering: .acquiringAndReleasing)
            var spins = 0
            while self.state.load(ordering: .acquiring) != Self.writerMark {
                spins += 1
                if spins < 200 { feed_cpu_relax() } else { sched_yield() }
            }
            // Releasing: the next reader in sees all this writer wrote.
            defer { self.state.wrappingSubtract(Self.writerMark, ordering: .releasing) }
            return try body()
        }
    }

    /// Runs `body` with the lock shared with other readers.
    func withShared<Result>(_ body: () -> Result) -> Result {
        while true {
            let before = self.state.wrappingAdd(1, ordering: .acquiring).oldValue
            if before < Self.writerMark { break }
            // A writer holds it, or waits for it: step back, and wait behind it.
            self.state.wrappingSubtract(1, ordering: .relaxed)
            self.writers.withLock { _ in }
        }
        defer { self.state.wrappingSubtract(1, ordering: .releasing) }
        return body()
    }
}
