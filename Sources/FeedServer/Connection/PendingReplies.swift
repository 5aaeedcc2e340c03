import DequeModule
import NIOCore

/// Replies that must wait, in order: everything written after a waiting
/// reply waits behind it, so a pipeline's replies keep their order while the
/// commands behind a slow one still run.
///
/// A reply waits for durability (sync mode: until its write has committed),
/// for FEED.SYNC, or for a read that needs PostgreSQL.
struct PendingReplies {
    /// One piece of output; `bytes` is nil until it may be sent.
    final class Segment {
        var bytes: ByteBuffer?

        init(_ bytes: ByteBuffer?) {
            self.bytes = bytes
        }
    }

    private var segments = Deque<Segment>()
    /// Bytes held in resolved segments, against the output limit.
    private(set) var heldBytes = 0

    var isEmpty: Bool { self.segments.isEmpty }

    /// Queues output that may go as soon as everything before it has gone.
    mutating func appendReady(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        self.heldBytes += bytes.readableBytes
        self.segments.append(Segment(bytes))
    }

    /// Queues output to be filled in later; returns its handle.
    mutating func appendWaiting() -> Segment {
        let segment = Segment(nil)
        self.segments.append(segment)
        return segment
    }

    /// Fills in a waiting segment.
    mutating func resolve(_ segment: Segment, with bytes: ByteBuffer) {
        segment.bytes = bytes
        self.heldBytes += bytes.readableBytes
    }

    /// Takes the output that may be sent now: the resolved segments at the front.
    mutating func takeSendable() -> [ByteBuffer] {
        var ready: [ByteBuffer] = []
        while let first = self.segments.first, let bytes = first.bytes {
            self.segments.removeFirst()
            self.heldBytes -= bytes.readableBytes
            ready.append(bytes)
        }
        return ready
    }
}
