@testable import FeedServer
import NIOCore
import RESP
import Testing

@Suite struct IntrospectionTests {
    @Test func infoHasRedisLayout() throws {
        let client = try TestConnection()
        let text = try #require(try client.call("INFO").string)
        #expect(text.hasPrefix("# Server\r\n"))
        #expect(text.hasSuffix("\r\n"))
        for line in ["redis_version:7.0.15", "loading:0", "connected_clients:1", "redis_mode:standalone"] {
            #expect(text.contains("\r\n\(line)\r\n"), "\(line)")
        }
        #expect(text.contains("\r\nused_memory:"))
        // Sections are separated by one blank line; every other line is key:value.
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) where !line.isEmpty && !line.hasPrefix("# ") {
            #expect(line.contains(":"), "\(line)")
        }
        #expect(text.contains("\r\n\r\n# Clients\r\n"))
    }

    @Test func infoSectionsAreSelectable() throws {
        let client = try TestConnection()
        let clients = try #require(try client.call("INFO", "clients").string)
        #expect(clients.hasPrefix("# Clients\r\n") && !clients.contains("# Server"))
        let two = try #require(try client.call("INFO", "SERVER", "memory").string)
        #expect(two.contains("# Server") && two.contains("# Memory") && !two.contains("# Clients"))
        #expect(try client.call("INFO", "nosuch").string == "")
        let all = try #require(try client.call("INFO", "all").string)
        #expect(all.contains("# Stats") && all.contains("# Keyspace"))
    }

    @Test func infoIsVerbatimInResp3() throws {
        let client = try TestConnection()
        _ = try client.raw("HELLO", "3")
        #expect(try client.raw("INFO", "cluster") == "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n")
    }

    @Test func configGetMatchesGlobs() throws {
        let client = try TestConnection { $0.maxClients = 77 }
        #expect(try client.call("CONFIG", "GET", "maxclients").dictionary["maxclients"]?.string == "77")
        let many = try client.call("CONFIG", "GET", "*max*")
        #expect(Set(many.dictionary.keys).isSuperset(of: ["maxclients", "maxmemory", "proto-max-bulk-len"]))
        let both = try client.call("CONFIG", "GET", "save", "appendonly", "SAVE")
        #expect(both.dictionary == ["save": .bulk(""), "appendonly": .bulk("no")])
        #expect(try client.call("CONFIG", "GET", "nosuch") == .array([]))
        #expect(
            try client.raw("CONFIG", "SET", "maxclients", "5")
                == "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - can't set immutable config\r\n")
        #expect(
            try client.raw("CONFIG", "SET", "nosuch", "5")
                == "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n")
    }

    @Test func commandDescribesEveryCommand() throws {
        let client = try TestConnection()
        guard case .integer(let count) = try client.call("COMMAND", "COUNT") else {
            Issue.record("COMMAND COUNT must be an integer")
            return
        }
        let all = try #require(try client.call("COMMAND").elements)
        #expect(all.count == Int(count))
        let info = try #require(try client.call("COMMAND", "INFO", "ping", "nosuch").elements)
        #expect(info.count == 2)
        let ping = try #require(info[0].elements)
        #expect(ping.count == 10)
        #expect(ping[0].string == "ping")
        #expect(ping[1] == .integer(-1))
        #expect(info[1] == .nullArray)
        let client3 = try TestConnection()
        _ = try client3.raw("HELLO", "3")
        #expect(try #require(try client3.call("COMMAND", "INFO", "nosuch").elements) == [.null])
    }

    @Test func commandDocsGiveRedisCliItsHints() throws {
        let client = try TestConnection()
        _ = try client.raw("HELLO", "3")
        let docs = try client.call("COMMAND", "DOCS", "echo", "client")
        let echo = try #require(docs.dictionary["echo"]).dictionary
        #expect(echo["summary"]?.string == "Returns the given string.")
        #expect(echo["group"]?.string == "connection")
        let arguments = try #require(echo["arguments"]?.elements)
        #expect(arguments.first?.dictionary["name"]?.string == "message")
        #expect(arguments.first?.dictionary["type"]?.string == "string")
        let clientDocs = try #require(docs.dictionary["client"]).dictionary
        let subcommands = try #require(clientDocs["subcommands"]).dictionary
        #expect(subcommands["client|setname"] != nil)
        // Every command has docs when none is named.
        guard case .map(let everything) = try client.call("COMMAND", "DOCS") else {
            Issue.record("COMMAND DOCS must be a map")
            return
        }
        guard case .integer(let count) = try client.call("COMMAND", "COUNT") else { return }
        #expect(everything.count == Int(count))
    }

    @Test func dbsizeAndHelp() throws {
        let client = try TestConnection()
        #expect(try client.raw("DBSIZE") == ":0\r\n")
        let help = try #require(try client.call("COMMAND", "HELP").elements)
        #expect(help.count > 4)
    }
}
