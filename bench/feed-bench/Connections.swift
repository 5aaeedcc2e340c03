import NIOCore
import NIOPosix

/// Where the load goes.
struct Target: Sendable {
    let host: String
    let port: Int
    let group: MultiThreadedEventLoopGroup

    /// Opens one connection with `makeHandler` as its only handler, and
    /// returns the future that handler completes.
    func connect<Outcome: Sendable>(
        _ makeHandler: @escaping @Sendable (EventLoopPromise<Outcome>) -> any ChannelHandler
    ) async throws -> EventLoopFuture<Outcome> {
        let loop = self.group.next()
        let promise = loop.makePromise(of: Outcome.self)
        do {
            _ = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(makeHandler(promise))
                    }
                }
                .connect(host: self.host, port: self.port).get()
        } catch {
            promise.fail(error)
            throw BenchError("cannot connect to \(self.host):\(self.port): \(error)")
        }
        return promise.futureResult
    }

    /// Runs one script per connection, side by side, and returns their outcomes.
    func run<Script: ConnectionScript>(_ scripts: [Script], window: Int) async throws -> [Script.Outcome] {
        var futures: [EventLoopFuture<Script.Outcome>] = []
        for script in scripts {
            futures.append(try await self.connect { ScriptHandler(script: script, window: window, done: $0) })
        }
        var outcomes: [Script.Outcome] = []
        for future in futures { outcomes.append(try await future.get()) }
        return outcomes
    }
}
