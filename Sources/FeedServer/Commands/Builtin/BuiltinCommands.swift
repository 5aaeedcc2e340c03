/// The commands every Redis client sends on its own. FEED.* commands join
/// this table from the engine layer.
enum BuiltinCommands {
    static let all: [CommandSpec] = [
        ConnectionCommands.ping, ConnectionCommands.echo, ConnectionCommands.select, ConnectionCommands.quit,
        ConnectionCommands.reset, AuthCommands.auth, AuthCommands.hello, ClientCommand.spec, CommandCommand.spec,
        InfoCommand.spec, ConfigCommand.spec, ServerCommands.dbsize, ServerCommands.time, ServerCommands.shutdown,
        SlowlogCommand.spec, ClusterCommands.spec,
    ]
}
