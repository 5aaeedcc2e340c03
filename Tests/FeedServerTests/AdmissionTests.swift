@testable import FeedServer
import NIOCore
import NIOEmbedded
import RESP
import Synchronization
import Testing

@Suite struct AdmissionTests {
    @Test func protectedModeRefusesRemoteClientsWithoutAPassword() throws {
        let remote = try TestConnection(server: TestConnection.makeServer(), remote: "10.1.2.3")
        let reply = try remote.drain()
        #expect(reply.hasPrefix("-DENIED feed-server is running in protected mode"))
        #expect(reply.hasSuffix("\r\n"))
        #expect(!remote.isOpen)
        #expect(remote.server.clients.count == 0)
        #expect(remote.server.stats.rejectedConnections.load(ordering: .relaxed) == 1)
    }

    @Test func protectedModeLetsLoopbackAndPasswordedServersThrough() throws {
        #expect(try TestConnection(server: TestConnection.makeServer(), remote: "127.0.0.1").raw("PING") == "+PONG\r\n")
        #expect(try TestConnection(server: TestConnection.makeServer(), remote: "::1").raw("PING") == "+PONG\r\n")
        let passworded = TestConnection.makeServer { $0.requirePass = "pw" }
        #expect(try TestConnection(server: passworded, remote: "10.1.2.3").raw("PING") == "-NOAUTH Authentication required.\r\n")
        let unprotected = TestConnection.makeServer { $0.protectedMode = false }
        #expect(try TestConnection(server: unprotected, remote: "10.1.2.3").raw("PING") == "+PONG\r\n")
    }

    @Test func maxClientsRefusesOneMore() throws {
        let server = TestConnection.makeServer { $0.maxClients = 2 }
        let first = try TestConnection(server: server)
        let second = try TestConnection(server: server)
        let third = try TestConnection(server: server)
        #expect(try third.drain() == "-ERR max number of clients reached\r\n")
        #expect(!third.isOpen)
        #expect(try first.raw("PING") == "+PONG\r\n")
        #expect(try second.raw("PING") == "+PONG\r\n")
        // A slot frees when a client leaves.
        _ = try first.raw("QUIT")
        let fourth = try TestConnection(server: server)
        #expect(try fourth.raw("PING") == "+PONG\r\n")
    }

    @Test func aClientOverItsOutputLimitIsClosed() throws {
        let client = try TestConnection()
        #expect(try client.raw("PING") == "+PONG\r\n")
        // The channel's high water mark is the output limit: crossing it means the
        // client has stopped reading.
        client.channel.isWritable = false
        client.channel.pipeline.fireChannelWritabilityChanged()
        #expect(!client.isOpen)
        #expect(client.server.stats.outputLimitDisconnections.load(ordering: .relaxed) == 1)
    }
}
