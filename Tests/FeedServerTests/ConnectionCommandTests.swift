@testable import FeedServer
import NIOCore
import NIOEmbedded
import Synchronization
import RESP
import Testing

@Suite struct ConnectionCommandTests {
    /// Replies that end exactly where a 64 KiB chunk was handed to the
    /// socket must still be flushed (they once waited for the next request).
    @Test func repliesEndingAtAChunkBoundaryAreFlushed() throws {
        let client = try TestConnection()
        let big = String(repeating: "x", count: 70_000)
        #expect(try client.raw("ECHO", big) == "$70000\r\n\(big)\r\n")
        var pipeline = ByteBuffer()
        for _ in 0..<8 { RESPValue.encodeCommand(["ECHO", String(repeating: "y", count: 9_000)], into: &pipeline) }
        let replies = try client.send(String(buffer: pipeline))
        #expect(replies.utf8.count == 8 * (9_000 + 9))
    }

    @Test func pingAndEcho() throws {
        let client = try TestConnection()
        #expect(try client.raw("PING") == "+PONG\r\n")
        #expect(try client.raw("ping", "hello") == "$5\r\nhello\r\n")
        #expect(try client.raw("PING", "a", "b") == "-ERR wrong number of arguments for 'ping' command\r\n")
        #expect(try client.raw("ECHO", "a\r\nb") == "$4\r\na\r\nb\r\n")
        #expect(try client.raw("ECHO") == "-ERR wrong number of arguments for 'echo' command\r\n")
        #expect(try client.send("PING\r\n") == "+PONG\r\n")
    }

    @Test func unknownCommandsUseRedisWords() throws {
        let client = try TestConnection()
        #expect(try client.raw("xyz", "a", "b") == "-ERR unknown command 'xyz', with args beginning with: 'a' 'b' \r\n")
        #expect(try client.raw("nosuch") == "-ERR unknown command 'nosuch', with args beginning with: \r\n")
        #expect(try client.raw("CLIENT", "FOO") == "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n")
        #expect(try client.raw("CLIENT") == "-ERR wrong number of arguments for 'client' command\r\n")
        #expect(try client.raw("CONFIG", "GET") == "-ERR wrong number of arguments for 'config|get' command\r\n")
        // Arguments are cut at 128 characters in all.
        let long = String(repeating: "x", count: 300)
        let reply = try client.raw("nope", long, "tail")
        #expect(reply == "-ERR unknown command 'nope', with args beginning with: '\(String(repeating: "x", count: 128))' \r\n")
        // A CR or LF in an echoed argument cannot break the reply's framing.
        #expect(try client.raw("bad\r\ncmd") == "-ERR unknown command 'bad  cmd', with args beginning with: \r\n")
    }

    @Test func helloNegotiatesTheProtocol() throws {
        let client = try TestConnection()
        let hello = try client.call("HELLO", "3")
        guard case .map = hello else {
            Issue.record("HELLO 3 must reply with a RESP3 map, got \(hello)")
            return
        }
        let fields = hello.dictionary
        #expect(fields["server"]?.string == "feed-server")
        #expect(fields["proto"] == .integer(3))
        #expect(fields["mode"]?.string == "standalone")
        #expect(fields["role"]?.string == "master")
        #expect(fields["modules"] == .array([]))
        #expect(fields["id"] == .integer(client.server.clients.all().first!.id))
        #expect(fields["version"]?.string == "7.0.15")
        // Later replies use RESP3: a null is `_`, CONFIG GET is a map.
        #expect(try client.raw("CLIENT", "GETNAME") == "_\r\n")
        #expect(try client.raw("CONFIG", "GET", "save") == "%1\r\n$4\r\nsave\r\n$0\r\n\r\n")
        // HELLO 2 goes back: a flat array of 14.
        #expect(try client.raw("HELLO", "2").hasPrefix("*14\r\n$6\r\nserver\r\n"))
        #expect(try client.raw("CLIENT", "GETNAME") == "$-1\r\n")
        #expect(try client.raw("CONFIG", "GET", "save") == "*2\r\n$4\r\nsave\r\n$0\r\n\r\n")
    }

    @Test func helloRejectsWhatRedisRejects() throws {
        let client = try TestConnection()
        #expect(try client.raw("HELLO", "4") == "-NOPROTO unsupported protocol version\r\n")
        #expect(try client.raw("HELLO", "1") == "-NOPROTO unsupported protocol version\r\n")
        #expect(try client.raw("HELLO", "x") == "-ERR Protocol version is not an integer or out of range\r\n")
        #expect(try client.raw("HELLO", "3", "FOO") == "-ERR Syntax error in HELLO option 'FOO'\r\n")
        #expect(
            try client.raw("HELLO", "3", "SETNAME", "a b")
                == "-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
        // A failed HELLO changes nothing: still RESP2.
        #expect(try client.raw("CLIENT", "GETNAME") == "$-1\r\n")
        _ = try client.raw("HELLO", "3", "SETNAME", "worker-1")
        #expect(try client.raw("CLIENT", "GETNAME") == "$8\r\nworker-1\r\n")
    }

    @Test func selectOnlyKnowsDatabaseZero() throws {
        let client = try TestConnection()
        #expect(try client.raw("SELECT", "0") == "+OK\r\n")
        #expect(try client.raw("SELECT", "1") == "-ERR DB index is out of range\r\n")
        #expect(try client.raw("SELECT", "x") == "-ERR value is not an integer or out of range\r\n")
    }

    @Test func quitRepliesThenCloses() throws {
        let client = try TestConnection()
        #expect(try client.send("PING\r\nQUIT\r\nPING\r\n") == "+PONG\r\n+OK\r\n")
        #expect(!client.isOpen)
    }

    @Test func resetGoesBackToAFreshConnection() throws {
        let client = try TestConnection { $0.requirePass = "pw" }
        #expect(try client.raw("AUTH", "pw") == "+OK\r\n")
        _ = try client.raw("HELLO", "3", "SETNAME", "n")
        #expect(try client.raw("RESET") == "+RESET\r\n")
        #expect(try client.raw("CLIENT", "GETNAME") == "-NOAUTH Authentication required.\r\n")
        #expect(try client.raw("AUTH", "pw") == "+OK\r\n")
        #expect(try client.raw("CLIENT", "GETNAME") == "$-1\r\n")
    }

    @Test func pipelinedRepliesComeInOrderInOneWrite() throws {
        let client = try TestConnection()
        var pipeline = ByteBuffer()
        for index in 0..<500 { RESPValue.encodeCommand(["ECHO", "\(index)"], into: &pipeline) }
        try client.channel.writeInbound(pipeline)
        let text = try client.drain()
        let expected = (0..<500).map { "$\(String($0).count)\r\n\($0)\r\n" }.joined()
        #expect(text == expected)
        #expect(client.writes.count == 1)
    }

    @Test func protocolErrorsReplyThenClose() throws {
        let client = try TestConnection()
        #expect(try client.send("PING\r\n*1\r\nfoo\r\n") == "+PONG\r\n-ERR Protocol error: expected '$', got 'f'\r\n")
        #expect(!client.isOpen)
        #expect(client.server.stats.protocolErrors.load(ordering: .relaxed) == 1)
    }

    @Test func timeIsSecondsAndMicroseconds() throws {
        let client = try TestConnection()
        let reply = try client.call("TIME")
        let parts = try #require(reply.elements)
        #expect(parts.count == 2)
        let seconds = try #require(Int(parts[0].string ?? ""))
        let micros = try #require(Int(parts[1].string ?? ""))
        #expect(abs(seconds - Int(WallClock.microseconds() / 1_000_000)) <= 2)
        #expect((0..<1_000_000).contains(micros))
    }
}
