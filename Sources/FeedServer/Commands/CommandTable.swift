import NIOCore

/// Every command the server knows, found by name without allocating: names
/// are lower-cased into a small (inline) String before the dictionary lookup.
struct CommandTable: Sendable {
    /// A command as a connection runs it: its spec, its counters, and a
    /// container's subcommands by lower-case short name.
    final class Entry: Sendable {
        let spec: CommandSpec
        let stats: CommandStats
        let subcommands: [String: Entry]

        init(spec: CommandSpec, metrics: FeedMetrics) {
            self.spec = spec
            self.stats = CommandStats(name: spec.fullName, metrics: metrics)
            var subcommands: [String: Entry] = [:]
            for sub in spec.subcommands { subcommands[sub.shortName] = Entry(spec: sub, metrics: metrics) }
            self.subcommands = subcommands
        }
    }

    /// Top-level commands by lower-case name.
    private let byName: [String: Entry]

    init(_ specs: [CommandSpec], metrics: FeedMetrics) {
        var byName: [String: Entry] = [:]
        for spec in specs {
            precondition(byName[spec.fullName] == nil, "duplicate command \(spec.fullName)")
            byName[spec.fullName] = Entry(spec: spec, metrics: metrics)
        }
        self.byName = byName
    }

    /// Top-level commands in name order.
    var topLevel: [CommandSpec] { self.byName.values.map(\.spec).sorted { $0.fullName < $1.fullName } }

    func command(named name: String) -> CommandSpec? { self.byName[name.lowercased()]?.spec }

    func entry(_ name: ByteBuffer) -> Entry? {
        self.byName[Self.lowercased(name)]
    }

    func subentry(_ name: ByteBuffer, of container: Entry) -> Entry? {
        container.subcommands[Self.lowercased(name)]
    }

    func subcommands(of container: CommandSpec) -> [CommandSpec] {
        (self.byName[container.fullName]?.subcommands.values.map(\.spec) ?? []).sorted { $0.fullName < $1.fullName }
    }

    /// The counters of every command and subcommand, in name order.
    var allStats: [CommandStats] {
        self.byName.values.flatMap { [$0.stats] + $0.subcommands.values.map(\.stats) }.sorted { $0.name < $1.name }
    }

    /// ASCII-lower-cased text of a name. Names up to 15 bytes (all of ours) fit
    /// a small String, which lives inline and costs no allocation.
    private static func lowercased(_ name: ByteBuffer) -> String {
        let count = name.readableBytes
        guard count > 0, count <= 64 else { return count == 0 ? "" : String(buffer: name).lowercased() }
        return name.withUnsafeReadableBytes { bytes in
            String(unsafeUninitializedCapacity: count) { output in
                for index in 0..<count { output[index] = bytes[index].asciiLowercased }
                return count
            }
        }
    }
}
