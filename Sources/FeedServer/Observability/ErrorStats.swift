import NIOCore
import Synchronization

/// Error replies by their code (the first word: ERR, WRONGTYPE, TRYAGAIN),
/// for INFO errorstats and the Prometheus error counter. Like Redis, it
/// tracks at most 128 codes; errors with further codes still count in
/// total_error_replies.
final class ErrorStats: Sendable {
    static let maxCodes = 128
    private let counts = Mutex<[String: Int]>([:])

    /// Counts an error reply by its message (`ERR unknown command ...`).
    func record(message: String) {
        let code = message.prefix { $0 != " " && $0 != "\r" && $0 != "\n" }
        self.count(String(code))
    }

    /// Counts `reply` if it is an error (`-CODE message\r\n`): for replies
    /// that were built away from the connection's writer.
    func record(reply: ByteBuffer) {
        guard reply.getInteger(at: reply.readerIndex, as: UInt8.self) == UInt8(ascii: "-") else { return }
        let line = reply.withUnsafeReadableBytes { bytes in
            String(decoding: bytes.dropFirst().prefix(64), as: UTF8.self)
        }
        self.record(message: line)
    }

    private func count(_ code: String) {
        guard !code.isEmpty else { return }
        self.counts.withLock { counts in
            if counts[code] == nil && counts.count >= Self.maxCodes { return }
            counts[code, default: 0] += 1
        }
    }

    /// Codes and counts, by code.
    var snapshot: [(code: String, count: Int)] {
        self.counts.withLock { $0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    func reset() { self.counts.withLock { $0 = [:] } }
}
