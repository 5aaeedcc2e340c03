import NIOCore

/// One request from a client: its arguments, the command name first. Each
/// argument is a slice of the connection's read buffer, not a copy.
public struct RESPCommand: Sendable, Equatable {
    public var arguments: [ByteBuffer]

    public init(arguments: [ByteBuffer]) {
        self.arguments = arguments
    }

    /// A command from UTF-8 strings, for tests and clients.
    public init(_ arguments: String...) {
        self.arguments = arguments.map { ByteBuffer(string: $0) }
    }

    /// A command from UTF-8 strings, for tests and clients.
    public init(strings: [String]) {
        self.arguments = strings.map { ByteBuffer(string: $0) }
    }
}

extension RESPCommand: CustomStringConvertible {
    public var description: String {
        self.arguments.map { "\"\(String(buffer: $0))\"" }.joined(separator: " ")
    }
}
