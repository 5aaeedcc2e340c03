/// Versions the server reports.
enum ServerVersion {
    /// This product's version (INFO `feed_server_version`).
    static let feedServer = "0.1.0"
    /// The Redis version whose wire behaviour we follow (INFO `redis_version`,
    /// HELLO `version`).
    /// Client libraries compare it to decide which commands they may send, so it
    /// must look like a Redis release; see docs/adr/0002-server-identity.md.
    static let redisCompatible = "7.0.15"
}
