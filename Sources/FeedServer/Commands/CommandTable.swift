import NIOCore

/// Every command the server knows, found by name without allocating: names
/// are lower-cased into a small (inline) String before the dictionary lookup.
struct CommandTable: Sendable {
    /// Top-level commands by lower-case name.
    private let byName: [String: CommandSpec]
    /// Each container's subcommands by lower-case short name.
    private let subcommandsByContainer: [String: [String: CommandSpec]]

    init(_ specs: [CommandSpec]) {
        var byName: [String: CommandSpec] = [:]
        var subcommands: [String: [String: CommandSpec]] = [:]
        for spec in specs {
            var subs: [String: CommandSpec] = [:]
            for sub in spec.subcommands {
                subs[sub.shortName] = sub
            }
            if !subs.isEmpty { subcommands[spec.fullName] = subs }
            precondition(byName[spec.fullName] == nil, "duplicate command \(spec.fullName)")
            byName[spec.fullName] = spec
        }
        self.byName = byName
        self.subcommandsByContainer = subcommands
    }

    /// Top-level commands in name order.
    var topLevel: [CommandSpec] { self.byName.values.sorted { $0.fullName < $1.fullName } }

    func command(named name: String) -> CommandSpec? { self.byName[name.lowercased()] }

    func command(_ name: ByteBuffer) -> CommandSpec? {
        self.byName[Self.lowercased(name)]
    }

    func subcommand(_ name: ByteBuffer, of container: CommandSpec) -> CommandSpec? {
        self.subcommandsByContainer[container.fullName]?[Self.lowercased(name)]
    }

    func subcommands(of container: CommandSpec) -> [CommandSpec] {
        (self.subcommandsByContainer[container.fullName] ?? [:]).values.sorted { $0.fullName < $1.fullName }
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
