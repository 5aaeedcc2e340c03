/// The protocol a connection speaks: RESP2 until the client sends `HELLO 3`.
public enum RESPVersion: Int, Sendable, Hashable {
    case resp2 = 2
    case resp3 = 3
}
