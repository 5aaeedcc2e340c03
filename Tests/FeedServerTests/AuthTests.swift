@testable import FeedServer
import RESP
import Testing

@Suite struct AuthTests {
    @Test func authWithoutAPasswordConfiguredIsAnError() throws {
        let client = try TestConnection()
        #expect(
            try client.raw("AUTH", "x")
                == "-ERR AUTH <password> called without any password configured for the default user. "
                + "Are you sure your configuration is correct?\r\n")
        #expect(try client.raw("AUTH", "default", "anything") == "+OK\r\n")
        #expect(try client.raw("AUTH", "bob", "x") == "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
        #expect(try client.raw("AUTH", "a", "b", "c") == "-ERR syntax error\r\n")
    }

    @Test func everythingButTheHandshakeNeedsAuth() throws {
        let client = try TestConnection { $0.requirePass = "s3cret" }
        #expect(try client.raw("PING") == "-NOAUTH Authentication required.\r\n")
        #expect(try client.raw("CLIENT", "ID") == "-NOAUTH Authentication required.\r\n")
        // Lookup and arity come first, as in Redis.
        #expect(try client.raw("nosuch") == "-ERR unknown command 'nosuch', with args beginning with: \r\n")
        #expect(
            try client.raw("HELLO", "3")
                == "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
                + "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
                + "RESP protocol version at the same time\r\n")
        #expect(try client.raw("AUTH", "wrong") == "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
        #expect(
            try client.raw("AUTH", "default", "wrong")
                == "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
        #expect(
            try client.raw("HELLO", "3", "AUTH", "default", "nope")
                == "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
        #expect(try client.raw("PING") == "-NOAUTH Authentication required.\r\n")
        #expect(try client.raw("AUTH", "s3cret") == "+OK\r\n")
        #expect(try client.raw("PING") == "+PONG\r\n")
    }

    @Test func helloCanAuthenticate() throws {
        let client = try TestConnection { $0.requirePass = "s3cret" }
        let hello = try client.call("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "app")
        #expect(hello.dictionary["proto"] == .integer(3))
        #expect(try client.raw("CLIENT", "GETNAME") == "$3\r\napp\r\n")
    }

    @Test func quitAndResetWorkBeforeAuth() throws {
        let client = try TestConnection { $0.requirePass = "pw" }
        #expect(try client.raw("RESET") == "+RESET\r\n")
        #expect(try client.raw("QUIT") == "+OK\r\n")
        #expect(!client.isOpen)
    }

    @Test func unauthenticatedRequestsAreSmall() throws {
        let many = try TestConnection { $0.requirePass = "pw" }
        let eleven = "*11\r\n" + String(repeating: "$1\r\na\r\n", count: 11)
        #expect(try many.send(eleven) == "-ERR Protocol error: unauthenticated multibulk length\r\n")
        #expect(!many.isOpen)

        let big = try TestConnection { $0.requirePass = "pw" }
        #expect(
            try big.raw("AUTH", String(repeating: "p", count: 16 * 1024 + 1))
                == "-ERR Protocol error: unauthenticated bulk length\r\n")
        #expect(!big.isOpen)

        // After AUTH, even in the same read, the limits lift.
        let authed = try TestConnection { $0.requirePass = "pw" }
        var pipeline = "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"
        pipeline += "*12\r\n$4\r\nECHO\r\n" + String(repeating: "$1\r\na\r\n", count: 11)
        #expect(try authed.send(pipeline) == "+OK\r\n-ERR wrong number of arguments for 'echo' command\r\n")
        #expect(authed.isOpen)
    }
}
