// swift-tools-version: 6.1
// Microbenchmarks of the feed engine's hot paths (ordo-one/benchmark).
// A package of its own so the server's build and tests do not compile the
// benchmark harness. Run: cd bench/micro && swift package benchmark
import Foundation
import PackageDescription

// The root package's identity is the name of its directory, whatever the
// clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let package = Package(
    name: "feed-server-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: root.path),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TimelineBenchmarks",
            dependencies: [
                "BenchSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Timeline", package: root.lastPathComponent),
            ],
            path: "Benchmarks/TimelineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // A scenario in a loop, to profile with perf: `swift run -c release EngineProfile read`.
        .executableTarget(
            name: "EngineProfile",
            dependencies: ["BenchSupport", .product(name: "Timeline", package: root.lastPathComponent)],
            path: "Sources/EngineProfile"
        ),
        // What the benchmarks share: an entry writer that copies bytes as the server's does, a seeded generator.
        .target(
            name: "BenchSupport",
            dependencies: [.product(name: "Timeline", package: root.lastPathComponent)],
            path: "Sources/BenchSupport"
        ),
        // Measures the ways of owning the engine (docs/adr/0003-engine-ownership.md).
        .executableTarget(
            name: "EngineOwnership",
            dependencies: [.product(name: "Timeline", package: root.lastPathComponent)],
            path: "Sources/EngineOwnership"
        ),
    ],
    swiftLanguageModes: [.v6]
)
