// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "meter-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "meter-gateway", targets: ["GatewayApp"]),
        .library(name: "GatewayCore", targets: ["GatewayCore"]),
        .library(name: "GatewayDomain", targets: ["GatewayDomain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"]), .brew(["mosquitto"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // Pure: frame model, decoders, crypto primitives, ticket policy. No I/O, no C.
        .target(name: "GatewayCore", swiftSettings: swiftSettings),
        // Pure: the utility's rules (ticket lifecycle, escalation, deadlines, validation, signatures, accuracy).
        .target(name: "GatewayDomain", dependencies: ["GatewayCore"], swiftSettings: swiftSettings),
        .target(
            name: "MQTTIngest",
            dependencies: [
                "GatewayCore", "CMosquitto",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PostgresSink",
            dependencies: [
                "GatewayCore", "GatewayDomain", "CLibPQ",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatewayHTTP",
            dependencies: [
                "GatewayCore", "GatewayDomain", "PostgresSink",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // A fleet of simulated native meters that publish through the broker and answer acks (simulate, demo, tests).
        .target(
            name: "GatewayFleet",
            dependencies: [
                "GatewayCore", "MQTTIngest",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Decode throughput per protocol (bench-decode).
        .target(name: "GatewayBenchmarks", dependencies: ["GatewayCore"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "GatewayApp",
            dependencies: [
                "GatewayCore", "GatewayDomain", "MQTTIngest", "PostgresSink", "GatewayHTTP", "GatewayFleet",
                "GatewayBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            exclude: ["CHANGELOG.md"],
            swiftSettings: swiftSettings
        ),
        // libFuzzer entry point; see firmware-protocols/README.md for the build recipe.
        .executableTarget(name: "FrameFuzzer", dependencies: ["FrameFuzzHarness"], swiftSettings: swiftSettings),
        .target(name: "FrameFuzzHarness", dependencies: ["GatewayCore"], swiftSettings: swiftSettings),
        // Allocation gate: run under valgrind with two frame counts; heap totals must match.
        .executableTarget(
            name: "HotPathProbe",
            dependencies: ["GatewayCore"],
            swiftSettings: swiftSettings
        ),
        // Fixtures the test targets share: a fresh database on the test server, the running broker, the gateway
        // binary under test, the repository's files (README, golden vectors) found from any test folder.
        .target(
            name: "GatewayTestSupport",
            dependencies: [
                "PostgresSink",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/GatewayTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayCoreTests",
            dependencies: ["GatewayCore", "GatewayTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "GatewayDomainTests", dependencies: ["GatewayDomain"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MQTTIngestTests",
            dependencies: [
                "MQTTIngest", "GatewayTestSupport",
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresSinkTests",
            dependencies: ["PostgresSink", "GatewayDomain", "GatewayTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayHTTPTests",
            dependencies: [
                "GatewayHTTP", "GatewayCore", "GatewayDomain", "PostgresSink", "MQTTIngest", "GatewayTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The simulated fleet's model, and its retransmissions against the real broker (no gateway needed).
        .testTarget(
            name: "GatewayFleetTests",
            dependencies: [
                "GatewayFleet", "GatewayCore", "GatewayDomain", "MQTTIngest",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayAppTests",
            dependencies: [
                "GatewayApp", "GatewayCore", "GatewayDomain", "MQTTIngest", "PostgresSink", "GatewayHTTP",
                "GatewayBenchmarks", "GatewayTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
