// swift-tools-version:6.0
// secIRC — anonymous messenger over a mesh of UDP relays. Layout: docs/ARCHITECTURE.md.
import PackageDescription

/// One settings list for every Swift target: Swift 6 mode (strict concurrency) everywhere.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "secIRC",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "secirc-relay", targets: ["secirc-relay"]),
        .executable(name: "secirc-client", targets: ["secirc-client"]),
        .executable(name: "secirc", targets: ["secirc"]),
        .executable(name: "secirc-bench", targets: ["secirc-bench"]),
        .executable(name: "secirc-sim", targets: ["secirc-sim"]),
        .executable(name: "secirc-faults", targets: ["secirc-faults"]),
        .executable(name: "secirc-fuzz", targets: ["secirc-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C libraries (Debian packages). Each is imported by exactly one wrapper target.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // glibc's resolver library (res_nquery); part of libc6-dev, no pkg-config file.
        .systemLibrary(name: "CResolv"),

        .target(
            name: "SecIRCCrypto",
            dependencies: ["CSodium", "COpenSSL", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        .target(name: "SecIRCCore", dependencies: ["SecIRCCrypto"], swiftSettings: swiftSettings),
        // The project's one lock (a POSIX mutex ThreadSanitizer can see; docs/SECURITY.md "Sanitizers").
        .target(name: "SecIRCLock", swiftSettings: swiftSettings),
        .target(name: "SecIRCTransport", dependencies: ["SecIRCLock"], swiftSettings: swiftSettings),
        // Sans-I/O engines (links, relay, client network, directory, messenger rules): no socket,
        // no thread, no wall clock, no system RNG. `SecIRCTransport` only for `SocketAddress`.
        .target(
            name: "SecIRCNode", dependencies: ["SecIRCCrypto", "SecIRCCore", "SecIRCTransport", "SecIRCLock"],
            swiftSettings: swiftSettings),
        .target(
            name: "SecIRCConfig",
            dependencies: ["SecIRCCrypto", "SecIRCCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),
        .target(
            name: "SecIRCHTTP",
            dependencies: ["CMicroHTTPD", "CJansson", "SecIRCCrypto", "SecIRCLock"],
            swiftSettings: swiftSettings),
        // The I/O edge of the daemons: the one event loop (socket, clock, timers, HTTP fetches
        // through libcurl, DNS TXT lookups through libresolv); the only importer of CCurl and CResolv.
        .target(
            name: "SecIRCRuntime", dependencies: ["SecIRCNode", "SecIRCTransport", "SecIRCCore", "SecIRCCrypto", "SecIRCLock", "CCurl", "CResolv"],
            swiftSettings: swiftSettings),
        // The client API's contract (openapi/client.yaml) as Codable values, and a small blocking
        // HTTP/1.1 client for it. Foundation only: the daemon imports it for the types alone.
        .target(name: "SecIRCAPI", swiftSettings: swiftSettings),
        // The one process launcher: child processes, free ports, and relays and clients started
        // from configuration it writes (a devnet, the integration tests, the benchmarks). Relays
        // serving HTTPS are probed through SecIRCRuntime's libcurl fetch, pinned to their keys.
        .target(name: "SecIRCLauncher", dependencies: ["SecIRCAPI", "SecIRCNode", "SecIRCRuntime"], swiftSettings: swiftSettings),
        .target(
            name: "SecIRCRelay",
            dependencies: [
                "SecIRCCrypto", "SecIRCCore", "SecIRCConfig", "SecIRCTransport", "SecIRCHTTP", "SecIRCNode", "SecIRCRuntime", "SecIRCLock",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "secirc-relay",
            dependencies: [
                "SecIRCRelay", "SecIRCConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "SecIRCClient",
            dependencies: [
                "SecIRCCrypto", "SecIRCCore", "SecIRCConfig", "SecIRCTransport", "SecIRCHTTP", "SecIRCNode", "SecIRCRuntime", "SecIRCAPI", "SecIRCLock",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "secirc-client",
            dependencies: [
                "SecIRCClient", "SecIRCConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        // The `secirc` command line: a client of the daemon's HTTP API, and `secirc devnet`.
        .target(
            name: "SecIRCCLI",
            dependencies: ["SecIRCAPI", "SecIRCLauncher", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),
        .executableTarget(name: "secirc", dependencies: ["SecIRCCLI"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "secirc-bench",
            dependencies: [
                "SecIRCCore", "SecIRCCrypto", "SecIRCHTTP", "SecIRCTransport", "SecIRCRelay", "SecIRCConfig", "SecIRCAPI", "SecIRCLauncher", "SecIRCNode", "SecIRCRuntime", "SecIRCLock",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),

        // The whole network in one process on virtual time, running the real engines.
        .target(
            name: "SecIRCSim", dependencies: ["SecIRCNode", "SecIRCCore", "SecIRCCrypto", "SecIRCTransport"],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "secirc-sim",
            dependencies: ["SecIRCSim", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),

        // A fault-injecting UDP forwarder (delay, jitter, loss, duplication) for tests on a real
        // network: the faults as a value over an injected clock and generator, and the sockets.
        .target(
            name: "SecIRCFaults", dependencies: ["SecIRCCore", "SecIRCCrypto", "SecIRCNode", "SecIRCTransport", "SecIRCLock"],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "secirc-faults",
            dependencies: [
                "SecIRCFaults", "SecIRCRuntime", "SecIRCTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),
        // libFuzzer targets for every decoder the network or an API reaches (docs/FUZZING.md).
        // A normal build makes the seed-corpus writer and input replayer; `scripts/fuzz.sh`
        // builds it apart (`--sanitize fuzzer -Xswiftc -DFUZZING`, its own build path).
        .executableTarget(
            name: "secirc-fuzz",
            dependencies: ["SecIRCCore", "SecIRCCrypto", "SecIRCNode", "SecIRCTransport", "SecIRCHTTP", "SecIRCConfig", "SecIRCAPI"],
            path: "Fuzz/Sources/secirc-fuzz",
            swiftSettings: swiftSettings),

        .testTarget(name: "SecIRCCryptoTests", dependencies: ["SecIRCCrypto"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SecIRCCoreTests", dependencies: ["SecIRCCore", "SecIRCCrypto"],
            exclude: ["Vectors"], swiftSettings: swiftSettings),
        .testTarget(name: "SecIRCConfigTests", dependencies: ["SecIRCConfig", "SecIRCCrypto"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SecIRCTransportTests", dependencies: ["SecIRCLock", "SecIRCTransport", "SecIRCCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SecIRCNodeTests", dependencies: ["SecIRCLock", "SecIRCNode", "SecIRCCore", "SecIRCCrypto", "SecIRCTransport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SecIRCRelayTests",
            dependencies: ["SecIRCLock",
                "SecIRCRelay", "SecIRCCrypto", "SecIRCCore", "SecIRCHTTP", "SecIRCConfig", "SecIRCTransport", "SecIRCNode",
                "SecIRCRuntime", .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "SecIRCHTTPTests", dependencies: ["SecIRCLock", "SecIRCHTTP", "SecIRCCrypto"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SecIRCClientTests",
            dependencies: ["SecIRCLock",
                "SecIRCClient", "SecIRCCrypto", "SecIRCCore", "SecIRCHTTP", "SecIRCConfig", "SecIRCTransport", "SecIRCNode", "SecIRCAPI",
                .product(name: "Yams", package: "Yams"), .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SecIRCFaultsTests",
            dependencies: ["SecIRCFaults", "SecIRCCore", "SecIRCCrypto", "SecIRCNode", "SecIRCRuntime", "SecIRCTransport"],
            swiftSettings: swiftSettings),
        .testTarget(name: "SecIRCSimTests", dependencies: ["SecIRCSim", "SecIRCCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SecIRCRuntimeTests",
            dependencies: ["SecIRCLock", "SecIRCRuntime", "SecIRCNode", "SecIRCCore", "SecIRCCrypto", "SecIRCTransport"],
            swiftSettings: swiftSettings),
        .testTarget(name: "SecIRCAPITests", dependencies: ["SecIRCLock", "SecIRCAPI", "SecIRCLauncher", "SecIRCCrypto"], swiftSettings: swiftSettings),
        .testTarget(name: "SecIRCLauncherTests", dependencies: ["SecIRCLauncher", "SecIRCAPI"], swiftSettings: swiftSettings),
        .testTarget(name: "SecIRCCLITests", dependencies: ["SecIRCCLI", "SecIRCAPI"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["SecIRCLock",
                "SecIRCCrypto", "SecIRCCore", "SecIRCTransport", "SecIRCAPI", "SecIRCLauncher", "SecIRCNode", "SecIRCRelay",
                "SecIRCClient", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
    ]
)
