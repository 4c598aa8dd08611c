// swift-tools-version:6.0
// dnsbridge: a self-hosted hybrid-cloud DNS forwarding gateway.
// Release builds (`swift build -c release`) use whole-module optimisation and SwiftPM's default
// cross-module optimisation; hot cross-module code is marked @inlinable.
import PackageDescription

let package = Package(
    name: "dnsbridge",
    products: [
        .executable(name: "dnsbridge", targets: ["Gateway"]),
    ],
    targets: [
        // C system libraries from Debian, one target each, added as the features that use them arrive.
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1",
                       providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CSystemd", path: "Sources/CSystemd", pkgConfig: "libsystemd",
                       providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CNFTables", path: "Sources/CNFTables", pkgConfig: "libnftnl",
                       providers: [.apt(["libnftnl-dev", "libmnl-dev"])]),
        // libmicrohttpd's variadic start and connection-info calls, wrapped for Swift.
        .target(name: "CMicroHTTPD", linkerSettings: [.linkedLibrary("microhttpd")]),
        // Linux calls the Glibc module lacks (epoll, eventfd, recvmmsg/sendmmsg need _GNU_SOURCE).
        .target(name: "CNetShim"),
        // The VERSION file, embedded at build time (C23 #embed; the compiler tracks it as a dependency).
        .target(name: "CBuildInfo"),

        // Pure layers: no sockets, clocks or logging.
        .target(name: "DNSWire"),
        .target(name: "Addressing"),

        .target(name: "EventIO", dependencies: ["Addressing", "CNetShim"]),

        .target(name: "Forwarder", dependencies: ["DNSWire", "Addressing", "EventIO", "CNetShim"]),
        .target(name: "NetIsolation", dependencies: ["Addressing", "CNFTables"]),
        .executableTarget(name: "Gateway",
                          dependencies: ["CYAML", "CSystemd", "CNetShim", "CBuildInfo", "CMicroHTTPD", "DNSWire", "Addressing", "EventIO",
                                         "Forwarder", "NetIsolation"],
                          // Full RELRO: every symbol bound at load, so the GOT can be read-only.
                          linkerSettings: [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now"])]),

        .executableTarget(name: "rules-bench", dependencies: ["DNSWire", "Forwarder"], path: "bench/RulesBench"),

        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "AddressingTests", dependencies: ["Addressing"]),
        .testTarget(name: "ForwarderTests", dependencies: ["Forwarder", "DNSWire"]),
        .testTarget(name: "EventIOTests", dependencies: ["EventIO", "Addressing"]),
        .testTarget(name: "NetIsolationTests", dependencies: ["NetIsolation", "Addressing"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "Forwarder", "NetIsolation"]),
    ],
    swiftLanguageModes: [.v6]
)
