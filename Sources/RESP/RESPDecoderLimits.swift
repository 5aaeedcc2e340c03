/// The bounds the request decoder enforces before it allocates or does
/// arithmetic with a length the peer sent. Defaults are Redis's.
public struct RESPDecoderLimits: Sendable, Hashable {
    /// Longest inline request, and longest `*` or `$` count line (Redis's
    /// PROTO_INLINE_MAX_SIZE). Also how much data without a newline is buffered
    /// before the connection is cut off.
    public var maxInlineSize: Int = 64 * 1024
    /// Most arguments in one `*` request.
    public var maxMultibulkCount: Int = 1024 * 1024
    /// Longest bulk string (Redis's `proto-max-bulk-len`).
    public var maxBulkLength: Int = 512 * 1024 * 1024
    /// Most arguments before the client has authenticated.
    public var unauthenticatedMaxMultibulkCount: Int = 10
    /// Longest bulk string before the client has authenticated.
    public var unauthenticatedMaxBulkLength: Int = 16 * 1024

    public init() {}

    public init(maxMultibulkCount: Int, maxBulkLength: Int) {
        self.maxMultibulkCount = maxMultibulkCount
        self.maxBulkLength = maxBulkLength
    }
}
