@testable import FeedServer
import RESP
import Testing

@Suite struct ClientCommandTests {
    @Test func namesAndIds() throws {
        let server = TestConnection.makeServer()
        let first = try TestConnection(server: server)
        let second = try TestConnection(server: server)
        guard case .integer(let firstID) = try first.call("CLIENT", "ID"),
            case .integer(let secondID) = try second.call("CLIENT", "ID")
        else {
            Issue.record("CLIENT ID must be an integer")
            return
        }
        #expect(secondID > firstID)
        #expect(try first.raw("CLIENT", "GETNAME") == "$-1\r\n")
        #expect(try first.raw("CLIENT", "SETNAME", "alpha") == "+OK\r\n")
        #expect(try first.raw("CLIENT", "GETNAME") == "$5\r\nalpha\r\n")
        #expect(
            try first.raw("CLIENT", "SETNAME", "has space")
                == "-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
        #expect(try first.raw("CLIENT", "SETNAME", "") == "+OK\r\n")
        #expect(try first.raw("CLIENT", "GETNAME") == "$-1\r\n")
    }

    @Test func listShowsEveryClientWithRedisFields() throws {
        let server = TestConnection.makeServer()
        let first = try TestConnection(server: server, port: 40001)
        let second = try TestConnection(server: server, port: 40002)
        _ = try first.raw("CLIENT", "SETNAME", "one")
        _ = try first.raw("CLIENT", "SETINFO", "LIB-NAME", "redis-py")
        _ = try first.raw("CLIENT", "SETINFO", "LIB-VER", "8.1.0")
        let text = try #require(try second.call("CLIENT", "LIST").string)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        let firstLine = try #require(lines.first { $0.contains("name=one") })
        for field in ["id=", "addr=127.0.0.1:40001", "laddr=", "age=", "idle=", "flags=N", "db=0", "cmd=client|setinfo",
            "resp=2", "lib-name=redis-py", "lib-ver=8.1.0"]
        {
            #expect(firstLine.contains(field), "\(field) missing from \(firstLine)")
        }
        #expect(lines.contains { $0.contains("addr=127.0.0.1:40002") && $0.contains("cmd=client|list") })
        let own = try #require(try second.call("CLIENT", "INFO").string)
        #expect(own.hasPrefix("id=") && own.contains("addr=127.0.0.1:40002") && own.hasSuffix("\n"))
        #expect(
            try first.raw("CLIENT", "SETINFO", "LIB-NAME", "a b")
                == "-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n")
        #expect(try first.raw("CLIENT", "SETINFO", "FOO", "x") == "-ERR Unrecognized option 'FOO'\r\n")
    }

    @Test func killClosesOtherClients() throws {
        let server = TestConnection.makeServer()
        let killer = try TestConnection(server: server, port: 40010)
        let victim = try TestConnection(server: server, port: 40011)
        guard case .integer(let victimID) = try victim.call("CLIENT", "ID") else { return }
        #expect(try killer.raw("CLIENT", "KILL", "ID", "\(victimID)") == ":1\r\n")
        #expect(!victim.isOpen)
        #expect(try killer.raw("CLIENT", "KILL", "ID", "\(victimID)") == ":0\r\n")
        #expect(try killer.raw("CLIENT", "KILL", "ID", "x") == "-ERR client-id should be greater than 0\r\n")
        #expect(try killer.raw("CLIENT", "KILL", "1.2.3.4:5") == "-ERR No such client\r\n")
        // Killing oneself is skipped unless SKIPME no; then the reply still arrives.
        guard case .integer(let ownID) = try killer.call("CLIENT", "ID") else { return }
        #expect(try killer.raw("CLIENT", "KILL", "ID", "\(ownID)") == ":0\r\n")
        #expect(try killer.raw("CLIENT", "KILL", "ID", "\(ownID)", "SKIPME", "no") == ":1\r\n")
        #expect(!killer.isOpen)
    }

    @Test func helpListsSubcommands() throws {
        let client = try TestConnection()
        let lines = try #require(try client.call("CLIENT", "HELP").elements).compactMap(\.string)
        #expect(lines.first == "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        #expect(lines.contains { $0.hasPrefix("SETNAME") })
        #expect(lines.suffix(2) == ["HELP", "    Print this help."])
    }
}
