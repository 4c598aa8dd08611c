import Addressing
import Testing
@testable import NetIsolation

private func cidr(_ s: String) -> CIDR { try! CIDR(parsing: s) }
private func ip(_ s: String) -> IPAddress { IPAddress(s)! }

@Suite("isolation compiler")
struct CompilerTests {
    @Test func overlappingAndAdjacentPrefixesMerge() {
        let ranges = AddressRanges.merge([cidr("10.0.1.0/24"), cidr("10.0.0.0/24"), cidr("10.0.0.128/25"),
                                          cidr("192.168.0.0/16"), cidr("10.0.3.0/24")])
        #expect(ranges.map { NFTSyntax.element($0) } == ["10.0.0.0/23", "10.0.3.0/24", "192.168.0.0/16"])
    }

    @Test func rangesThatAreNotOnePrefixAreWrittenAsRanges() {
        let ranges = AddressRanges.merge([cidr("10.0.0.0/24"), cidr("10.0.1.0/24"), cidr("10.0.2.0/24")])
        #expect(ranges.map { NFTSyntax.element($0) } == ["10.0.0.0-10.0.2.255"])
    }

    @Test func theWholeSpaceAndItsTop() {
        #expect(AddressRanges.merge([cidr("0.0.0.0/0"), cidr("10.0.0.0/8")]).map { NFTSyntax.element($0) } == ["0.0.0.0/0"])
        #expect(AddressRanges.merge([cidr("255.255.255.0/24"), cidr("255.255.255.255/32")]).count == 1)
        #expect(AddressRanges.successor(ip("255.255.255.255")) == nil)
        #expect(AddressRanges.successor(ip("::ffff:ffff:ffff:ffff")) == ip("0:0:0:1::"))
        let v6 = AddressRanges.merge([cidr("2001:db8::/33"), cidr("2001:db8:8000::/33")])
        #expect(v6.map { NFTSyntax.element($0) } == ["2001:db8::/32"])
    }

    @Test func prefixMasksInNetworkOrder() {
        #expect(CIDR.maskOctets(length: 12, total: 4) == [0xFF, 0xF0, 0, 0])
        #expect(CIDR.maskOctets(length: 0, total: 4) == [0, 0, 0, 0])
        #expect(CIDR.maskOctets(length: 33, total: 16).prefix(5) == [0xFF, 0xFF, 0xFF, 0xFF, 0x80])
    }

    @Test func naclEntriesInNumberOrderThenImplicitDeny() {
        let nacl = NACL(name: "edge", interface: "eth1",
                        ingress: [NACLEntry(number: 200, action: .allow, protocol: .any, ports: nil, cidr: cidr("10.0.0.0/8")),
                                  NACLEntry(number: 100, action: .deny, protocol: .udp, ports: PortRange(low: 53, high: 53),
                                            cidr: cidr("10.6.0.0/16"))],
                        egress: [])
        let r = Compiler.compile(IsolationPolicy(enabled: true, nacls: [nacl]), Exposure(endpoints: [], targets: []))
        let chain = r.chains.first { $0.name == "nacl-edge-ingress" }!
        // Neighbour discovery first (a NACL would deny it), then the entries by number.
        #expect(chain.rules.map(\.verdict) == [.return, .return, .return, .drop, .return, .drop])
        #expect(chain.rules.suffix(3).map(\.comment) == ["nacl edge ingress 100 deny", "nacl edge ingress 200 allow",
                                                          "nacl edge ingress: no entry matched"])
        let input = r.chains.first { $0.name == "input" }!
        // The NACL runs before anything accepts: it comes right after loopback.
        #expect(input.rules.firstIndex { $0.verdict == .jump("nacl-edge-ingress") } == 1)
    }

    @Test func endpointAllowListsBecomeSetsAndEveryListenerJumps() {
        let endpoint = EndpointExposure(name: "from vpc", listeners: [
            (ip: ip("198.18.2.1"), services: [Service(.udp, 53), Service(.tcp, 53)]),
            (ip: ip("::"), services: [Service(.udp, 5300)]),
        ], allow: [cidr("198.18.2.0/25"), cidr("2001:db8:2::/64")])
        var policy = IsolationPolicy(enabled: true)
        policy.notrack = .always
        let r = Compiler.compile(policy, Exposure(endpoints: [endpoint], targets: []))
        #expect(r.sets.map(\.name) == ["endpoint-from_vpc-allow-v4", "endpoint-from_vpc-allow-v6"])
        let input = r.chains.first { $0.name == "input" }!
        let jumps = input.rules.filter { $0.verdict == .jump("endpoint-from_vpc") }
        #expect(jumps.count == 3)
        // A wildcard listener matches its family, not an address.
        #expect(jumps[2].matches == [.family(.v6), .port(.udp, PortRange(low: 5300, high: 5300), .destination)])
        let raw = r.chains.first { $0.name == "prerouting-raw" }!
        #expect(raw.rules.count == 2)  // UDP listeners only: TCP stays tracked
        let chain = r.chains.first { $0.name == "endpoint-from_vpc" }!
        #expect(chain.rules.last == FilterRule(matches: [], verdict: .drop, comment: "endpoint from vpc: source outside allow"))
    }

    @Test func untrackedOnlyWhereTrackingIsOn() {
        let endpoint = EndpointExposure(name: "e", listeners: [(ip: ip("198.18.2.1"), services: [Service(.udp, 53)])],
                                        allow: [cidr("198.18.2.0/24")])
        let exposure = Exposure(endpoints: [endpoint], targets: [])
        let group = SecurityGroup(name: "admin", ingress: [SecurityGroupRule(protocol: .tcp, ports: nil, cidr: cidr("10.0.0.0/8"))], egress: [])
        func chains(_ policy: IsolationPolicy) -> [String] { Compiler.compile(policy, exposure).chains.map(\.name) }
        func uses(_ policy: IsolationPolicy, _ m: FilterMatch) -> Bool {
            Compiler.compile(policy, exposure).chains.contains { $0.rules.contains { $0.matches.contains(m) } }
        }
        // No explicit group: nothing in the table tracks connections, so nothing is marked.
        #expect(chains(IsolationPolicy(enabled: true)) == ["input", "output", "endpoint-e"])
        #expect(!uses(IsolationPolicy(enabled: true), .established))
        // A stateful group turns tracking on, and DNS is kept out of it.
        let grouped = IsolationPolicy(enabled: true, securityGroups: [group])
        #expect(chains(grouped).prefix(2) == ["prerouting-raw", "output-raw"])
        #expect(uses(grouped, .established))
        var never = grouped
        never.notrack = .never
        #expect(!chains(never).contains("prerouting-raw"))
    }

    @Test func dnsEgressOnlyToTargets() {
        let targets = [TargetExposure(pool: "dc", address: SocketAddress(ip: ip("198.18.1.53"), port: 5353), transports: [.udp, .tcp])]
        let r = Compiler.compile(IsolationPolicy(enabled: true), Exposure(endpoints: [], targets: targets))
        let output = r.chains.first { $0.name == "output" }!
        let drops = output.rules.filter { $0.verdict == .drop }.map(\.comment)
        #expect(drops == ["DNS egress only to pool targets: udp 53", "DNS egress only to pool targets: tcp 53",
                          "DNS egress only to pool targets: tcp 853", "DNS egress only to pool targets: udp 5353",
                          "DNS egress only to pool targets: tcp 5353"])
        let accepts = output.rules.firstIndex { $0.comment == "pool dc target 198.18.1.53:5353 udp" }!
        #expect(accepts < output.rules.firstIndex { $0.verdict == .drop }!)
    }

    @Test func explicitGroupsAcceptThenDropTheirScope() {
        let group = SecurityGroup(name: "admin", ingress: [
            SecurityGroupRule(protocol: .tcp, ports: PortRange(low: 22, high: 22), cidr: cidr("10.0.0.0/8")),
            SecurityGroupRule(protocol: .tcp, ports: PortRange(low: 22, high: 22), cidr: cidr("192.168.1.0/24")),
        ], egress: [])
        let r = Compiler.compile(IsolationPolicy(enabled: true, securityGroups: [group]), Exposure(endpoints: [], targets: []))
        let input = r.chains.first { $0.name == "input" }!
        let tail = input.rules.suffix(3)
        #expect(tail.map(\.verdict) == [.accept, .accept, .drop])
        #expect(tail.last?.matches == [.port(.tcp, PortRange(low: 22, high: 22), .destination)])
        #expect(NFTSyntax.rule(tail.first!) == "ip saddr 10.0.0.0/8 tcp dport 22 counter accept comment \"security group admin ingress 1\"")
    }
}
