// swift-tools-version:6.0
//
// peerd: decentralized machine learning over ZeroMQ.
//
// One target per layer (see docs/architecture.md). Imports only point down:
//   C shims → Numerics → Models / Datasets / Topology / Sharing → Transport → Learning → executables;
//   Config is a leaf that Learning reads.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
  .swiftLanguageMode(.v6)
]

let package = Package(
  name: "peerd",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "peerd", targets: ["peerd"]),
    .executable(name: "peerctl", targets: ["peerctl"]),
    .executable(name: "peerd-bench", targets: ["PeerdBenchmarks"]),
    .executable(name: "peerd-fuzz", targets: ["PeerdFuzz"]),
    .library(name: "Learning", targets: ["Learning"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
  ],
  targets: [
    // System libraries: module maps and nothing else.
    .systemLibrary(
      name: "CZeroMQ", path: "Sources/CZeroMQ",
      providers: [.apt(["libzmq3-dev"])]),
    .systemLibrary(
      name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CZlib", path: "Sources/CZlib",
      providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(
      name: "CZstd", path: "Sources/CZstd",
      providers: [.apt(["libzstd-dev"])]),
    .systemLibrary(name: "CSystem", path: "Sources/CSystem"),
    .systemLibrary(
      name: "CTurboJPEG", path: "Sources/CTurboJPEG",
      providers: [.apt(["libturbojpeg0-dev"])]),

    // Layers.
    .target(name: "Numerics", dependencies: ["COpenBLAS"], swiftSettings: swiftSettings),
    .target(name: "Models", dependencies: ["Numerics"], swiftSettings: swiftSettings),
    .target(
      name: "Datasets", dependencies: ["Numerics", "CZlib", "CTurboJPEG"],
      swiftSettings: swiftSettings),
    .target(name: "Topology", dependencies: ["Numerics"], swiftSettings: swiftSettings),
    .target(name: "Sharing", dependencies: ["Numerics", "CZstd"], swiftSettings: swiftSettings),
    .target(name: "Transport", dependencies: ["CZeroMQ", "Numerics", "Sharing"], swiftSettings: swiftSettings),
    .target(name: "Config", swiftSettings: swiftSettings),
    .target(
      name: "Learning",
      dependencies: [
        "Numerics", "Models", "Datasets", "Topology", "Sharing", "Transport", "Config", "CSystem",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: swiftSettings),

    // Executables: argument parsing and wiring only. PeerdCLI holds the flags and exit codes
    // peerd and peerctl share.
    .target(
      name: "PeerdCLI",
      dependencies: [
        "Config", "Topology", "Numerics", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "peerd",
      dependencies: [
        "Learning", "Numerics", "PeerdCLI", "Config", "Topology",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "peerctl",
      dependencies: [
        "Learning", "Config", "Datasets", "Topology", "Transport", "Numerics", "PeerdCLI",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings),
    // Fuzzing: the decoders' harness (a library the tests drive) and peerd-fuzz, which counts
    // allocations through its own malloc family (CFuzzSupport, linked into it alone).
    .target(
      name: "Fuzzing", dependencies: ["Config", "Topology", "Datasets", "Transport", "Sharing", "Numerics"],
      swiftSettings: swiftSettings),
    .target(name: "CFuzzSupport", path: "Sources/CFuzzSupport"),
    .executableTarget(
      name: "PeerdFuzz",
      dependencies: [
        "Fuzzing", "CFuzzSupport", "Numerics", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "PeerdBenchmarks",
      dependencies: [
        "Learning", "Models", "Datasets", "Topology", "Sharing", "Transport", "Numerics",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings),

    // Tests mirror the sources.
    .testTarget(name: "NumericsTests", dependencies: ["Numerics"], swiftSettings: swiftSettings),
    .testTarget(name: "ModelsTests", dependencies: ["Models", "Datasets"], swiftSettings: swiftSettings),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets"], swiftSettings: swiftSettings),
    .testTarget(name: "TopologyTests", dependencies: ["Topology"], swiftSettings: swiftSettings),
    .testTarget(name: "SharingTests", dependencies: ["Sharing"], swiftSettings: swiftSettings),
    .testTarget(name: "TransportTests", dependencies: ["Transport", "Sharing", "Numerics"], swiftSettings: swiftSettings),
    .testTarget(name: "ConfigTests", dependencies: ["Config"], swiftSettings: swiftSettings),
    .testTarget(
      name: "LearningTests",
      dependencies: [
        "Learning", "Datasets", "Models", "Numerics", "Sharing", "Topology", "Transport",
        .product(name: "Logging", package: "swift-log"),
      ], swiftSettings: swiftSettings),
    .testTarget(
      name: "IntegrationTests", dependencies: ["Learning", "Models", "Numerics", "Transport", "CZeroMQ", "Datasets"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "FuzzingTests", dependencies: ["Fuzzing", "Sharing", "Numerics"], swiftSettings: swiftSettings),
  ]
)
