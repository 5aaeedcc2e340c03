import NIOCore

extension SocketAddress {
    /// True for 127.0.0.0/8, ::1, IPv4-mapped loopback and unix sockets: the
    /// peers protected mode lets in.
    var isLoopback: Bool {
        switch self {
        case .unixDomainSocket:
            return true
        case .v4:
            return self.ipAddress?.hasPrefix("127.") ?? false
        case .v6:
            guard let ip = self.ipAddress else { return false }
            return ip == "::1" || ip.lowercased().hasPrefix("::ffff:127.")
        }
    }
}
