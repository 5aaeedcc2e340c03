import NIOCore
import RESP
import Synchronization

/// What the rest of the server may know about one connection: CLIENT LIST
/// reads it, CLIENT KILL closes it, shutdown drains it.
///
/// The connection's own state lives on its event loop; this record holds the
/// few fields other threads read. Fields that change per batch are atomics,
/// the rarely-changed ones sit behind one small lock.
final class ClientRecord: Sendable {
    let id: Int64
    let channel: any Channel
    /// `ip:port` of the peer and of our end, as Redis prints them.
    let address: String
    let localAddress: String
    /// Milliseconds since the Unix epoch when the connection was accepted.
    let createdAtMilliseconds: Int64

    /// Milliseconds since the Unix epoch of the last request.
    let lastInteractionMilliseconds: Atomic<Int64>
    /// The last command run (nil before any). Specs live as long as the
    /// process, so the reference needs no retain.
    let lastCommand = Atomic<Unmanaged<CommandSpec>?>(nil)
    /// What this connection has done; only its own event loop writes here.
    let traffic = TrafficCounters()
    /// Channels and patterns subscribed, for CLIENT LIST.
    let subscribedChannels = Atomic<Int>(0)
    let subscribedPatterns = Atomic<Int>(0)

    struct Details: Sendable {
        var name: String = ""
        var libraryName: String = ""
        var libraryVersion: String = ""
        var protocolVersion: RESPVersion = .resp2
    }

    let details = Mutex(Details())

    init(id: Int64, channel: any Channel, now: Int64) {
        self.id = id
        self.channel = channel
        self.address = Self.format(channel.remoteAddress)
        self.localAddress = Self.format(channel.localAddress)
        self.createdAtMilliseconds = now
        self.lastInteractionMilliseconds = Atomic(now)
    }

    static func format(_ address: SocketAddress?) -> String {
        guard let address else { return "" }
        switch address {
        case .v4, .v6:
            let host = address.ipAddress ?? "?"
            let port = address.port ?? 0
            // Redis brackets nothing: an IPv6 peer prints as ::1:6379.
            return "\(host):\(port)"
        case .unixDomainSocket:
            return address.pathname.map { "\($0):0" } ?? "unix:0"
        }
    }
}
