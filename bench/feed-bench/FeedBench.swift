import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import RESP
import Histogram
import Synchronization

@main
struct FeedBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed-bench",
        abstract: "Load generator for feed-server (and the Redis + Lua baseline): graph setup, workloads, latency.",
        subcommands: [Setup.self, Run.self, Celebrity.self, Subscribe.self],
        defaultSubcommand: Run.self)
}

/// Where to connect and how requests are spelled.
struct TargetOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Server host.") var host = "127.0.0.1"
    @Option(name: .shortAndLong, help: "Server port.") var port = 6380
    @Option(help: "How requests are spelled: feed (FEED.*) or redis-lua (FCALL into bench/baselines/feed.lua).")
    var dialect = "feed"
    @Option(help: "Event loop threads of the load tool (one, like redis-benchmark, leaves the cores to the server).")
    var threads = 1

    func parsedDialect() throws -> Dialect {
        guard let dialect = Dialect(rawValue: self.dialect) else {
            throw ValidationError("--dialect must be one of \(Dialect.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return dialect
    }

    func target() -> Target {
        Target(host: self.host, port: self.port, group: MultiThreadedEventLoopGroup(numberOfThreads: self.threads))
    }
}

struct GraphOptions: ParsableArguments {
    @Option(help: "Users in the graph (named user:%012d).") var users = 10_000
    @Option(help: "Follows per user.") var follows = 100
    @Option(help: "Zipf exponent of followee popularity.") var zipf = 1.0
    @Option(help: "Seed of the graph.") var seed: UInt64 = 1

    var graph: SocialGraph { SocialGraph(users: self.users, follows: self.follows, exponent: self.zipf, seed: self.seed) }
}

extension FeedBench {
    struct Setup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a social graph and load it over pipelined connections, or write it for redis-cli --pipe / SQL.")

        @OptionGroup var target: TargetOptions
        @OptionGroup var graph: GraphOptions
        @Option(name: .short, help: "Connections loading the graph.") var connections = 8
        @Option(help: "Requests in flight per connection while loading.") var window = 1000
        @Flag(inversion: .prefixedNo, help: "Read every user's feed once after loading, so timelines are resident.")
        var warm = true
        @Option(help: "Write the commands to this file for `redis-cli --pipe` instead of loading them.") var pipe: String?
        @Option(help: "Write the edges as follower,followee numbers (CSV) to this file instead of loading them.") var csv: String?

        func run() async throws {
            let dialect = try self.target.parsedDialect()
            let graph = self.graph.graph
            if let csv = self.csv {
                var text = ""
                graph.forEachEdge { text += "\($0),\($1)\n" }
                try text.write(toFile: csv, atomically: true, encoding: .utf8)
                FileHandle.standardError.write(Data("wrote \(graph.users) users' follows to \(csv)\n".utf8))
                return
            }
            var commands: [[String]] = []
            graph.forEachEdge { commands.append(dialect.follow(SocialGraph.name($0), SocialGraph.name($1))) }
            let edges = commands.count
            if self.warm { for user in 0..<graph.users { commands.append(dialect.read(SocialGraph.name(user), count: 1)) } }
            if let pipe = self.pipe {
                var buffer = ByteBuffer()
                for command in commands { RESPValue.encodeCommand(command, into: &buffer) }
                try Data(buffer.readableBytesView).write(to: URL(fileURLWithPath: pipe))
                FileHandle.standardError.write(Data("wrote \(commands.count) commands to \(pipe)\n".utf8))
                return
            }
            let started = ContinuousClock.now
            let target = self.target.target()
            // Follows first, then the warming reads, so every read sees its whole graph.
            var errors = 0
            var firstError: String?
            for phase in [Array(commands[..<edges]), Array(commands[edges...])] where !phase.isEmpty {
                let outcomes = try await target.run(split(phase, into: self.connections).map(CommandListScript.init), window: self.window)
                errors += outcomes.map(\.errors).reduce(0, +)
                firstError = firstError ?? outcomes.compactMap(\.firstError).first
            }
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            print(
                "loaded \(graph.users) users, \(edges) follows\(self.warm ? ", warmed \(graph.users) timelines" : "") in "
                    + String(format: "%.2f s (%.0f commands/s)", seconds, Double(commands.count) / seconds))
            try? await target.group.shutdownGracefully()
            if errors > 0 { throw BenchError("\(errors) error replies while loading, first: \(firstError ?? "?")") }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a workload: closed loop (-c, -P, --duration) or open loop at a fixed --rate.")

        @OptionGroup var target: TargetOptions
        @Option(help: "posts, reads, mix, follows (follow/unfollow churn) or likes (of --post-ids).") var workload = "mix"
        @Option(name: .customLong("post-ids"), help: "A file of post ids, one per line, for the likes workload.") var postIDs: String?
        @Option(help: "Users the requests pick from (user:0 … user:N-1).") var users = 10_000
        @Option(name: .short, help: "Connections.") var connections = 50
        @Option(name: .customShort("P"), help: "Requests in flight per connection (closed loop).") var pipeline = 1
        @Option(help: "Seconds to run.") var duration = 10.0
        @Option(help: "Open loop: requests per second in all, each timed from its intended send time.") var rate: Double?
        @Option(help: "Share of reads in the mix workload.") var readRatio = 0.5
        @Option(help: "Entries per read (COUNT).") var count = 50
        @Flag(help: "Reads ask for the ranked feed (FEED.READ … RANKED; feed-server only).") var ranked = false
        @Option(help: "Bytes per post body.") var bodyBytes = 110
        @Option(help: "Seed of the request streams.") var seed: UInt64 = 7
        @Flag(help: "Print the report as JSON on stdout (the progress line still goes to stderr).") var json = false
        @Flag(help: "No progress line.") var quiet = false

        func run() async throws {
            let dialect = try self.target.parsedDialect()
            guard let workload = WorkloadKind(rawValue: self.workload) else {
                throw ValidationError("--workload must be one of \(WorkloadKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard self.connections > 0, self.pipeline > 0, self.duration > 0 else {
                throw ValidationError("-c, -P and --duration must be positive")
            }
            var postIDs: [String] = []
            if workload == .likes {
                guard let path = self.postIDs, let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ValidationError("--workload likes needs --post-ids FILE")
                }
                postIDs = text.split(whereSeparator: \.isNewline).map(String.init)
                guard !postIDs.isEmpty else { throw ValidationError("--post-ids names no post") }
            }
            let likedPosts = postIDs
            if let rate = self.rate, !(rate > 0 && Double(self.connections) / rate * 1e9 >= 1) {
                throw ValidationError("--rate must be positive and at most a billion per connection")
            }
            let target = self.target.target()
            let progress = Progress()
            let start = NIODeadline.now().uptimeNanoseconds + 50_000_000
            let stop = start + UInt64(self.duration * 1e9)
            let pacing: (Int) -> Pacing = { index in
                guard let rate = self.rate else { return .closed(depth: self.pipeline) }
                let interval = UInt64(Double(self.connections) / rate * 1e9)
                // Connections take turns, so the whole stream is evenly spaced.
                return .open(intervalNanoseconds: interval, offsetNanoseconds: interval * UInt64(index) / UInt64(self.connections))
            }
            var futures: [EventLoopFuture<LoadResult>] = []
            for index in 0..<self.connections {
                var configured = RequestSource(
                    workload: workload, dialect: dialect, users: self.users, readRatio: self.readRatio, readCount: self.count,
                    bodyBytes: self.bodyBytes, seed: self.seed &+ UInt64(index) &* 7919)
                configured.ranked = self.ranked
                configured.postIDs = likedPosts
                let source = configured
                let plan = pacing(index)
                futures.append(
                    try await target.connect { promise in
                        LoadHandler(source: source, pacing: plan, start: start, stop: stop, progress: progress, done: promise)
                    })
            }
            let reporter = self.quiet ? nil : Task { await Self.reportProgress(progress, start: start, stop: stop) }
            var result = LoadResult()
            for future in futures { result.merge(try await future.get()) }
            reporter?.cancel()
            _ = await reporter?.value
            let seconds = Double(NIODeadline.now().uptimeNanoseconds - start) / 1e9
            try? await target.group.shutdownGracefully()
            let report = self.report(result, dialect: dialect, seconds: min(seconds, self.duration + 0.05))
            print(self.json ? try report.json() : report.table())
            if result.histograms.allSatisfy({ $0.totalCount == 0 }) { throw BenchError("no replies: \(result.firstError ?? "?")") }
        }

        func report(_ result: LoadResult, dialect: Dialect, seconds: Double) -> RunReport {
            var kinds: [String: KindReport] = [:]
            var all = makeHistogram()
            for kind in RequestKind.allCases where result.histograms[kind.rawValue].totalCount > 0 {
                kinds[kind.label] = KindReport(result.histograms[kind.rawValue], errors: result.errors[kind.rawValue], seconds: seconds)
                all.add(result.histograms[kind.rawValue])
            }
            return RunReport(
                target: "\(self.target.host):\(self.target.port)", dialect: dialect.rawValue, workload: self.workload,
                mode: self.rate.map { String(format: "open loop at %.0f req/s", $0) } ?? "closed loop, -P \(self.pipeline)",
                connections: self.connections, pipeline: self.pipeline, rate: self.rate, seconds: seconds,
                tryAgain: result.tryAgain, firstError: result.firstError, kinds: kinds,
                all: KindReport(all, errors: result.errors.reduce(0, +), seconds: seconds))
        }

        /// One line a second on stderr: throughput in the last second, totals.
        static func reportProgress(_ progress: Progress, start: UInt64, stop: UInt64) async {
            var last = 0
            var tick = 1
            let isTerminal = isatty(STDERR_FILENO) != 0
            while !Task.isCancelled {
                let wake = start + UInt64(tick) * 1_000_000_000
                let now = NIODeadline.now().uptimeNanoseconds
                if wake > now { try? await Task.sleep(nanoseconds: wake - now) }
                if Task.isCancelled { break }
                let completed = progress.completed.load(ordering: .relaxed)
                let line = "[\(tick)s] \(completed - last) req/s, \(completed) replies, \(progress.errors.load(ordering: .relaxed)) errors"
                FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
                last = completed
                tick += 1
                if wake >= stop { break }
            }
            if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }

    struct Celebrity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A celebrity with N followers posts: time until every follower's read shows the post.")

        @OptionGroup var target: TargetOptions
        @Option(help: "Followers of the celebrity.") var followers = 100_000
        @Option(name: .short, help: "Connections.") var connections = 8
        @Option(help: "Requests in flight per connection.") var window = 500
        @Option(help: "Name of the celebrity (a fresh one per run by default).") var name: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let dialect = try self.target.parsedDialect()
            let target = self.target.target()
            let celebrity = self.name ?? "celebrity:\(UInt32.random(in: 0...UInt32.max))"
            let fans = (0..<self.followers).map { "\(celebrity):fan:\($0)" }
            let setupStarted = ContinuousClock.now
            // Every follower follows, then reads once (an active user with a resident timeline).
            for phase in [fans.map { dialect.follow($0, celebrity) }, fans.map { dialect.read($0, count: 1) }] {
                let outcomes = try await target.run(split(phase, into: self.connections).map(CommandListScript.init), window: self.window)
                if let error = outcomes.compactMap(\.firstError).first { throw BenchError("setup failed: \(error)") }
            }
            let setupSeconds = (ContinuousClock.now - setupStarted) / .seconds(1)
            // The post, on a connection of its own.
            struct PostScript: ConnectionScript {
                var arguments: [String]
                var sent = false
                var id: Int64?
                var error: String?
                var repliedAt: UInt64 = 0
                mutating func next(into buffer: inout ByteBuffer) -> Bool {
                    if self.sent { return false }
                    self.sent = true
                    RESPValue.encodeCommand(self.arguments, into: &buffer)
                    return true
                }
                mutating func reply(_ value: RESPValue, at nanoseconds: UInt64) {
                    self.repliedAt = nanoseconds
                    if let id = value.postID { self.id = id } else { self.error = "\(value)" }
                }
                var outcome: (id: Int64?, error: String?, repliedAt: UInt64) { (self.id, self.error, self.repliedAt) }
            }
            let sent = NIODeadline.now().uptimeNanoseconds
            let posted = try await target.run([PostScript(arguments: dialect.post(celebrity, "hello, all of you"))], window: 1)[0]
            guard let post = posted.id else { throw BenchError("the post failed: \(posted.error ?? "?")") }
            // Passes over the followers who have not seen it yet, until none is left.
            var unseen = fans
            var lastSeen: UInt64 = 0
            var passes = 0
            while !unseen.isEmpty && passes < 1000 {
                passes += 1
                let outcomes = try await target.run(
                    split(unseen, into: self.connections).map { VisibilityScript(followers: $0, post: post, dialect: dialect) },
                    window: self.window)
                unseen = outcomes.flatMap(\.unseen)
                lastSeen = max(lastSeen, outcomes.map(\.lastSeen).max() ?? 0)
            }
            try? await target.group.shutdownGracefully()
            guard unseen.isEmpty else { throw BenchError("\(unseen.count) followers never saw the post") }
            let postMilliseconds = Double(posted.repliedAt - sent) / 1e6
            let visibleMilliseconds = Double(lastSeen - sent) / 1e6
            if self.json {
                let fields: [String: Double] = [
                    "followers": Double(self.followers), "post_reply_ms": postMilliseconds,
                    "all_followers_see_it_ms": visibleMilliseconds, "read_passes": Double(passes), "setup_seconds": setupSeconds,
                ]
                let data = try JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(
                    String(
                        format: "%d followers: the post replied in %.2f ms; every follower's read showed it %.1f ms after it was sent (%d read passes; setup %.1f s)",
                        self.followers, postMilliseconds, visibleMilliseconds, passes, setupSeconds))
            }
        }
    }
}
