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

        // Pure layers: no sockets, clocks or logging.
        .target(name: "DNSWire"),
        .target(name: "Addressing"),

        .target(name: "Forwarder", dependencies: ["DNSWire", "Addressing"]),
        .target(name: "NetIsolation", dependencies: ["Addressing"]),
        .executableTarget(name: "Gateway",
                          dependencies: ["CYAML", "DNSWire", "Addressing", "Forwarder", "NetIsolation"]),

        .executableTarget(name: "rules-bench", dependencies: ["DNSWire", "Forwarder"], path: "bench/RulesBench"),

        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "AddressingTests", dependencies: ["Addressing"]),
        .testTarget(name: "ForwarderTests", dependencies: ["Forwarder", "DNSWire"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "Forwarder", "NetIsolation"]),
    ],
    swiftLanguageModes: [.v6]
)
