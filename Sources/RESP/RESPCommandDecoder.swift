import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes what clients send: `*N` arrays of `$len` bulk strings, and inline
/// commands. It accepts nothing else, as Redis does.
///
/// The decoder is incremental. It never moves the reader index until a whole
/// request is there, and it remembers how far it got (the arguments already
/// framed, how far it searched for a line end), so a request that arrives in
/// many reads is scanned once, not once per read. All remembered positions are
/// relative to the reader index, so they stay valid when the owner of the
/// buffer compacts it between reads.
///
/// Every length the peer sends is checked against `limits` before it is used.
public struct RESPCommandDecoder: Sendable {
    public var limits: RESPDecoderLimits

    /// True while the connection has not authenticated to a server that needs a
    /// password; requests are then held to the tighter unauthenticated limits.
    public var unauthenticated: Bool = false

    /// Where parsing resumes, relative to the reader index.
    private var cursor = 0
    /// How far the search for the current line's end has got.
    private var scanned = 0
    /// Arguments still to read in the current `*` request; 0 between requests.
    private var remaining = 0
    /// Length of the bulk being read; -1 until its `$` line has been read.
    private var bulkLength = -1
    /// Arguments framed so far in the current request. Kept as ranges, not
    /// slices, so a partial request holds no reference to the buffer's storage
    /// and appending the next read never forces a copy.
    private var ranges: [Range<Int>] = []

    public init(limits: RESPDecoderLimits = RESPDecoderLimits()) {
        self.limits = limits
        self.ranges.reserveCapacity(8)
    }

    /// True when the decoder is between requests (nothing half-read).
    public var isIdle: Bool { self.remaining == 0 && self.cursor == 0 && self.scanned == 0 }

    /// Decodes the next request from `buffer`, moving its reader index past it.
    /// Returns nil when more bytes are needed; empty requests (a blank line,
    /// `*0`, `*-1`) are consumed and skipped.
    public mutating func next(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPCommand? {
        while true {
            let step = buffer.withUnsafeReadableBytes { self.step($0) }
            switch step {
            case .needMoreData:
                return nil
            case .failure(let error):
                return try Self.fail(error)
            case .skip(let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                self.reset()
            case .multibulk(let consumed):
                let base = buffer.readerIndex
                var arguments: [ByteBuffer] = []
                arguments.reserveCapacity(self.ranges.count)
                for range in self.ranges {
                    arguments.append(buffer.getSlice(at: base + range.lowerBound, length: range.count)!)
                }
                buffer.moveReaderIndex(forwardBy: consumed)
                self.reset()
                return RESPCommand(arguments: arguments)
            case .inline(let line, let consumed):
                let tokens = buffer.withUnsafeReadableBytes {
                    InlineRequestSplitter.split(UnsafeRawBufferPointer(rebasing: $0[line]))
                }
                guard let tokens else {
                    return try Self.fail(.unbalancedQuotes)
                }
                let base = buffer.readerIndex + line.lowerBound
                let arguments = tokens.map { token -> ByteBuffer in
                    switch token {
                    case .span(let span): return buffer.getSlice(at: base + span.lowerBound, length: span.count)!
                    case .bytes(let bytes): return ByteBuffer(bytes: bytes)
                    }
                }
                buffer.moveReaderIndex(forwardBy: consumed)
                self.reset()
                if !arguments.isEmpty { return RESPCommand(arguments: arguments) }
            }
        }
    }

    private static func fail(_ error: RESPProtocolError) throws(RESPProtocolError) -> RESPCommand? {
        throw error
    }

    private mutating func reset() {
        self.cursor = 0
        self.scanned = 0
        self.remaining = 0
        self.bulkLength = -1
        self.ranges.removeAll(keepingCapacity: true)
    }

    private enum Step {
        case needMoreData
        case failure(RESPProtocolError)
        /// An empty request of `consumed` bytes.
        case skip(consumed: Int)
        /// A complete `*` request of `consumed` bytes; its arguments are in `ranges`.
        case multibulk(consumed: Int)
        /// A complete inline request: the line's bytes, and the bytes to consume.
        case inline(line: Range<Int>, consumed: Int)
    }

    /// One step of parsing over the readable bytes (index 0 = reader index).
    private mutating func step(_ bytes: UnsafeRawBufferPointer) -> Step {
        if self.remaining == 0 {
            guard let first = bytes.first else { return .needMoreData }
            if first != .asterisk { return self.stepInline(bytes) }
            return self.stepMultibulkCount(bytes)
        }
        return self.stepBulks(bytes)
    }

    private mutating func stepInline(_ bytes: UnsafeRawBufferPointer) -> Step {
        guard let newline = self.find(.lf, in: bytes, from: self.scanned) else {
            self.scanned = bytes.count
            return bytes.count > self.limits.maxInlineSize ? .failure(.tooBigInlineRequest) : .needMoreData
        }
        // Judging by the newline's position, not by how much has arrived, gives the
        // same answer however the request was split across reads.
        if newline > self.limits.maxInlineSize { return .failure(.tooBigInlineRequest) }
        let lineEnd = newline > 0 && bytes[newline - 1] == .cr ? newline - 1 : newline
        return .inline(line: 0..<lineEnd, consumed: newline + 1)
    }

    private mutating func stepMultibulkCount(_ bytes: UnsafeRawBufferPointer) -> Step {
        guard let cr = self.find(.cr, in: bytes, from: max(1, self.scanned)) else {
            self.scanned = bytes.count
            return bytes.count > self.limits.maxInlineSize ? .failure(.tooBigMultibulkCount) : .needMoreData
        }
        if cr > self.limits.maxInlineSize { return .failure(.tooBigMultibulkCount) }
        self.scanned = cr
        // Redis wants the byte after CR too before it goes on (and does not check it is LF).
        guard cr + 1 < bytes.count else { return .needMoreData }
        guard let count = RESPDecimal.parse(UnsafeRawBufferPointer(rebasing: bytes[1..<cr])),
            count <= self.limits.maxMultibulkCount
        else {
            return .failure(.invalidMultibulkLength)
        }
        if self.unauthenticated && count > self.limits.unauthenticatedMaxMultibulkCount {
            return .failure(.unauthenticatedMultibulkLength)
        }
        if count <= 0 { return .skip(consumed: cr + 2) }
        self.remaining = Int(count)
        self.cursor = cr + 2
        self.scanned = self.cursor
        return self.stepBulks(bytes)
    }

    private mutating func stepBulks(_ bytes: UnsafeRawBufferPointer) -> Step {
        while self.remaining > 0 {
            if self.bulkLength < 0 {
                let lineStart = self.cursor
                guard let cr = self.find(.cr, in: bytes, from: max(lineStart, self.scanned)) else {
                    self.scanned = bytes.count
                    return bytes.count - lineStart > self.limits.maxInlineSize
                        ? .failure(.tooBigBulkCount) : .needMoreData
                }
                if cr - lineStart > self.limits.maxInlineSize { return .failure(.tooBigBulkCount) }
                self.scanned = cr
                guard cr + 1 < bytes.count else { return .needMoreData }
                guard bytes[lineStart] == .dollar else {
                    return .failure(.expectedDollar(got: bytes[lineStart]))
                }
                guard let length = RESPDecimal.parse(UnsafeRawBufferPointer(rebasing: bytes[(lineStart + 1)..<cr])),
                    length >= 0, length <= self.limits.maxBulkLength
                else {
                    return .failure(.invalidBulkLength)
                }
                if self.unauthenticated && length > self.limits.unauthenticatedMaxBulkLength {
                    return .failure(.unauthenticatedBulkLength)
                }
                self.bulkLength = Int(length)
                self.cursor = cr + 2
            }
            // The payload and the two bytes that end it (which, like Redis, we skip unread).
            let payloadEnd = self.cursor + self.bulkLength
            guard payloadEnd + 2 <= bytes.count else { return .needMoreData }
            self.ranges.append(self.cursor..<payloadEnd)
            self.cursor = payloadEnd + 2
            self.scanned = self.cursor
            self.bulkLength = -1
            self.remaining -= 1
        }
        return .multibulk(consumed: self.cursor)
    }

    /// The index of the first `byte` at or after `start`, searched with memchr.
    private func find(_ byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let hit = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return UnsafeRawPointer(hit) - base
    }
}

extension RESPCommandDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RESPCommand

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let command = try self.next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(command))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        try self.decode(context: context, buffer: &buffer)
    }
}
