// swift-tools-version: 6.1
import PackageDescription

/// Settings every target shares: Swift 6 language mode (strict concurrency is
/// its default) and `any` spelled out for existentials.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "feed-server",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "feed-server", targets: ["feed-server"]),
        .executable(name: "feed-bench", targets: ["feed-bench"]),
        .library(name: "RESP", targets: ["RESP"]),
        .library(name: "Timeline", targets: ["Timeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // HMAC for event-stream tokens; postgres-nio already builds it.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // The wire: RESP values, the request decoder, the reply encoder. NIOCore only.
        .target(
            name: "RESP",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        // The domain: the feed engine and its data structures. No NIO, no SQL, no clock.
        .target(
            name: "Timeline",
            dependencies: ["CPrefetch", .product(name: "Collections", package: "swift-collections")],
            swiftSettings: strictSettings + [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
        ),
        // A cache prefetch hint for the engine's lookups, which Swift does not expose.
        .target(name: "CPrefetch"),
        // Heap and RSS figures for INFO, which the Glibc module does not expose.
        .target(name: "CFeedSystem"),
        // The process: connections, the command table, auth, lifecycle.
        .target(
            name: "FeedServer",
            dependencies: [
                "RESP",
                "Timeline",
                "CFeedSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Persistence/Migrations")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "feed-server",
            dependencies: [
                "FeedServer",
                "RESP",
                "Timeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The load tool: RESP's client side over SwiftNIO, HdrHistogram latencies.
        .executableTarget(
            name: "feed-bench",
            dependencies: [
                "RESP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "bench/feed-bench",
            swiftSettings: strictSettings
        ),
        // What the test targets share (a seeded generator).
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strictSettings),
        .testTarget(
            name: "RESPTests",
            dependencies: [
                "RESP",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TimelineTests",
            dependencies: ["Timeline", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FeedServerTests",
            dependencies: [
                "FeedServer",
                "TestSupport",
                "RESP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                "Timeline",
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
