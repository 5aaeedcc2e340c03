import DequeModule
import NIOCore
import Synchronization

/// Redis's slow log: the last `maxLength` commands that took at least
/// `slowerThanMicroseconds` to run, newest first, with their arguments cut
/// down as Redis cuts them (32 arguments, 128 bytes each).
final class SlowLog: Sendable {
    struct Entry: Sendable {
        let id: Int
        /// Unix time, seconds.
        let time: Int64
        let microseconds: Int
        let arguments: [String]
        let peer: String
        let clientName: String
    }

    static let maxArguments = 32
    static let maxArgumentBytes = 128

    /// Negative turns the log off; 0 logs every command.
    let slowerThanMicroseconds: Atomic<Int>
    let maxLength: Atomic<Int>
    private let state = Mutex<(entries: Deque<Entry>, nextID: Int)>(([], 0))

    init(slowerThanMicroseconds: Int, maxLength: Int) {
        self.slowerThanMicroseconds = Atomic(slowerThanMicroseconds)
        self.maxLength = Atomic(maxLength)
    }

    /// Whether a command that took `microseconds` belongs in the log. Cheap:
    /// asked after every command.
    func wants(_ microseconds: Int) -> Bool {
        let threshold = self.slowerThanMicroseconds.load(ordering: .relaxed)
        return threshold >= 0 && microseconds >= threshold && self.maxLength.load(ordering: .relaxed) > 0
    }

    func record(arguments: [ByteBuffer], microseconds: Int, peer: String, clientName: String, now: Int64) {
        let kept = Self.trimmed(arguments)
        let maxLength = self.maxLength.load(ordering: .relaxed)
        self.state.withLock { state in
            state.entries.prepend(
                Entry(id: state.nextID, time: now, microseconds: microseconds, arguments: kept, peer: peer, clientName: clientName))
            state.nextID += 1
            while state.entries.count > maxLength { state.entries.removeLast() }
        }
    }

    /// The newest `count` entries (all of them for nil).
    func newest(_ count: Int?) -> [Entry] {
        self.state.withLock { state in Array(state.entries.prefix(count ?? state.entries.count)) }
    }

    var count: Int { self.state.withLock { $0.entries.count } }

    func reset() { self.state.withLock { $0.entries.removeAll() } }

    /// After CONFIG SET slowlog-max-len: drop what no longer fits.
    func trim() {
        let maxLength = self.maxLength.load(ordering: .relaxed)
        self.state.withLock { state in
            while state.entries.count > maxLength { state.entries.removeLast() }
        }
    }

    /// Redis's cut: at most 32 arguments, the last saying how many more there
    /// were; each at most 128 bytes, followed by how many more bytes it had.
    static func trimmed(_ arguments: [ByteBuffer]) -> [String] {
        let kept = arguments.count > maxArguments ? maxArguments - 1 : arguments.count
        var result = arguments.prefix(kept).map { argument -> String in
            let length = argument.readableBytes
            guard length > maxArgumentBytes else { return String(buffer: argument) }
            let head = argument.getSlice(at: argument.readerIndex, length: maxArgumentBytes)!
            return "\(String(buffer: head))... (\(length - maxArgumentBytes) more bytes)"
        }
        if kept < arguments.count { result.append("... (\(arguments.count - kept) more arguments)") }
        return result
    }
}
