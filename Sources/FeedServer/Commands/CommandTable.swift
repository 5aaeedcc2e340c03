import NIOCore

/// Every command the server knows, found by name without allocating: names
/// are lower-cased into a small (inline) String before the dictionary lookup.
struct CommandTable: Sendable {
    /// Top-level commands by lower-case name.
    private let byName: [String: CommandSpec]
    /// Each container's subcommands by lower-case short name.
    private let subcommandsByContainer: [String: [String: CommandSpec]]
    /// Every spec, subcommands included, by its `index`.
    let all: [CommandSpec]

    init(_ specs: [CommandSpec]) {
        var all: [CommandSpec] = []
        var byName: [String: CommandSpec] = [:]
        var subcommands: [String: [String: CommandSpec]] = [:]
        for var spec in specs {
            spec.index = all.count
            all.append(spec)
            var subs: [String: CommandSpec] = [:]
            for var sub in spec.subcommands {
                sub.index = all.count
                all.append(sub)
                subs[sub.shortName] = sub
            }
            if !subs.isEmpty { subcommands[spec.fullName] = subs }
            precondition(byName[spec.fullName] == nil, "duplicate command \(spec.fullName)")
            byName[spec.fullName] = spec
        }
        self.all = all
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
