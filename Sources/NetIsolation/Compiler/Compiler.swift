import Addressing

/// Compiles the isolation policy and what the gateway exposes into the `inet dnsbridge` table.
///
/// The table only ever drops traffic it owns — its scope — and accepts the rest, so it narrows
/// what other tables allow and never widens it:
/// - **NACLs** (stateless, per interface, lowest number first, implicit deny) run first, as a
///   subnet's ACL runs before an instance's security group. An allow returns the packet to the
///   base chain; it is not a final accept.
/// - **Endpoint security groups**: traffic to an endpoint's address and service ports is accepted
///   from its `allow` prefixes and dropped from anywhere else. Queries and answers are matched
///   statelessly in both directions (answers by source address and port), so these rules need no
///   connection tracking; DNS over UDP is marked untracked in the `raw` hooks where tracking is
///   on anyway (`notrack`: explicit groups, or `always` for hosts whose other tables track).
/// - **Egress to targets**: DNS ports (53, 853 and every target's port) are reachable only on the
///   pools' targets.
/// - **Explicit security groups**: each rule's protocol and ports join the scope; traffic in that
///   scope is accepted from (ingress) or to (egress) the rule's prefix, statefully — replies pass
///   through `ct state established,related`, the only rule that uses connection tracking.
/// Loopback and ICMPv6 neighbour discovery are never filtered.
public enum Compiler {
    public static func compile(_ policy: IsolationPolicy, _ exposure: Exposure) -> Ruleset {
        var c = Compilation()
        c.build(policy, exposure)
        return c.ruleset
    }
}

private struct Compilation {
    var ruleset = Ruleset()
    var usedNames: Set<String> = []

    /// nft identifiers: letters, digits, `-` and `_`; anything else becomes `_`, and a name taken
    /// by another object gets a number.
    mutating func identifier(_ base: String) -> String {
        let clean = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
        var name = clean, n = 2
        while usedNames.contains(name) { name = "\(clean)-\(n)"; n += 1 }
        usedNames.insert(name)
        return name
    }

    mutating func build(_ policy: IsolationPolicy, _ exposure: Exposure) {
        var rawIn = FilterChain(name: "prerouting-raw", hook: BaseHook(hook: .prerouting, priority: .raw))
        var rawOut = FilterChain(name: "output-raw", hook: BaseHook(hook: .output, priority: .raw))
        var input = FilterChain(name: "input", hook: BaseHook(hook: .input, priority: .filter))
        var output = FilterChain(name: "output", hook: BaseHook(hook: .output, priority: .filter))
        for name in ["prerouting-raw", "output-raw", "input", "output"] { usedNames.insert(name) }
        var regular: [FilterChain] = []

        input.rules.append(FilterRule(matches: [.loopback(inbound: true)], verdict: .accept, comment: "loopback is never filtered"))
        output.rules.append(FilterRule(matches: [.loopback(inbound: false)], verdict: .accept, comment: "loopback is never filtered"))

        for nacl in policy.nacls {
            for (inbound, entries) in [(true, nacl.ingress), (false, nacl.egress)] {
                let side = inbound ? "ingress" : "egress"
                var chain = FilterChain(name: identifier("nacl-\(nacl.name)-\(side)"))
                chain.rules = neighbourDiscovery(inbound: inbound, verdict: .return)
                for e in entries {
                    chain.rules.append(FilterRule(matches: entryMatches(e.protocol, e.ports, e.cidr, inbound: inbound),
                                            verdict: e.action == .allow ? .return : .drop,
                                            comment: "nacl \(nacl.name) \(side) \(e.number) \(e.action.rawValue)"))
                }
                chain.rules.append(FilterRule(matches: [], verdict: .drop, comment: "nacl \(nacl.name) \(side): no entry matched"))
                let jump = FilterRule(matches: [.interface(nacl.interface, inbound: inbound)], verdict: .jump(chain.name),
                                comment: "nacl \(nacl.name) on \(nacl.interface) \(side)")
                if inbound { input.rules.append(jump) } else { output.rules.append(jump) }
                regular.append(chain)
            }
        }

        for endpoint in exposure.endpoints {
            var chain = FilterChain(name: identifier("endpoint-\(endpoint.name)"))
            for family in [IPFamily.v4, .v6] {
                let prefixes = endpoint.allow.filter { IPFamily.of($0.network) == family }
                guard !prefixes.isEmpty else { continue }
                let set = AddressSet(name: identifier("endpoint-\(endpoint.name)-allow-\(family == .v4 ? "v4" : "v6")"),
                                     family: family, ranges: AddressRanges.merge(prefixes))
                ruleset.sets.append(set)
                chain.rules.append(FilterRule(matches: [.addressSet(name: set.name, family, .source)], verdict: .accept,
                                        comment: "endpoint \(endpoint.name): allow"))
            }
            chain.rules.append(FilterRule(matches: [], verdict: .drop, comment: "endpoint \(endpoint.name): source outside allow"))
            regular.append(chain)

            for (ip, services) in endpoint.listeners {
                let host = listenerMatch(ip)
                for service in services {
                    let label = "endpoint \(endpoint.name) \(describe(ip, service))"
                    let query = host + [.port(service.transport, single(service.port), .destination)]
                    input.rules.append(FilterRule(matches: query, verdict: .jump(chain.name), comment: label))
                    let answer = sourceMatch(ip) + [.port(service.transport, single(service.port), .source)]
                    output.rules.append(FilterRule(matches: answer, verdict: .accept, comment: "\(label): answers"))
                    if service.transport == .udp {
                        rawIn.rules.append(FilterRule(matches: query, verdict: .notrack, comment: "\(label): queries untracked"))
                        rawOut.rules.append(FilterRule(matches: answer, verdict: .notrack, comment: "\(label): answers untracked"))
                    }
                }
            }
        }

        var seenTargets: Set<SocketAddress> = []
        var egressPorts: [Service] = [Service(.udp, 53), Service(.tcp, 53), Service(.tcp, 853)]
        for target in exposure.targets where seenTargets.insert(target.address).inserted {
            let host = CIDR(network: target.address.ip, prefixLength: target.address.ip.isV4 ? 32 : 128)
            for transport in target.transports {
                let label = "pool \(target.pool) target \(target.address) \(transport.rawValue)"
                let port = single(target.address.port)
                let query: [FilterMatch] = [.prefix(host, .destination), .port(transport, port, .destination)]
                let answer: [FilterMatch] = [.prefix(host, .source), .port(transport, port, .source)]
                output.rules.append(FilterRule(matches: query, verdict: .accept, comment: label))
                input.rules.append(FilterRule(matches: answer, verdict: .accept, comment: "\(label): answers"))
                if !egressPorts.contains(Service(transport, target.address.port)) {
                    egressPorts.append(Service(transport, target.address.port))
                }
                guard transport == .udp else { continue }
                rawOut.rules.append(FilterRule(matches: query, verdict: .notrack, comment: "\(label): queries untracked"))
                rawIn.rules.append(FilterRule(matches: answer, verdict: .notrack, comment: "\(label): answers untracked"))
            }
        }

        addGroups(policy.securityGroups, inbound: true, to: &input)
        addGroups(policy.securityGroups, inbound: false, to: &output)

        for service in egressPorts {
            output.rules.append(FilterRule(matches: [.port(service.transport, single(service.port), .destination)], verdict: .drop,
                                     comment: "DNS egress only to pool targets: \(service.transport.rawValue) \(service.port)"))
        }

        let stateful = policy.securityGroups.contains { !$0.ingress.isEmpty || !$0.egress.isEmpty }
        let untracked = policy.notrack == .always || (policy.notrack == .auto && stateful)
        ruleset.chains = (untracked ? [rawIn, rawOut] : []) + [input, output] + regular
    }

    /// Each explicit rule accepts its traffic from (or to) its prefix; then what the rules'
    /// protocols and ports cover is dropped from everywhere else.
    mutating func addGroups(_ groups: [SecurityGroup], inbound: Bool, to chain: inout FilterChain) {
        let side = inbound ? "ingress" : "egress"
        guard groups.contains(where: { !(inbound ? $0.ingress : $0.egress).isEmpty }) else { return }
        // Stateful: replies to what the groups allowed pass. Only explicit groups need connection
        // tracking; the derived rules above match both directions statelessly.
        chain.rules.append(FilterRule(matches: [.established], verdict: .accept, comment: "security groups: replies to allowed traffic"))
        chain.rules += neighbourDiscovery(inbound: inbound, verdict: .accept)
        var scopes: [(IPProtocol, PortRange?)] = []
        for group in groups {
            for (i, rule) in (inbound ? group.ingress : group.egress).enumerated() {
                chain.rules.append(FilterRule(matches: entryMatches(rule.protocol, rule.ports, rule.cidr, inbound: inbound),
                                        verdict: .accept, comment: "security group \(group.name) \(side) \(i + 1)"))
                if !scopes.contains(where: { $0.0 == rule.protocol && $0.1 == rule.ports }) {
                    scopes.append((rule.protocol, rule.ports))
                }
            }
        }
        for (proto, ports) in scopes {
            var matches: [FilterMatch] = []
            if let transport = transport(proto) {
                matches = ports.map { [.port(transport, $0, .destination)] } ?? [.l4proto(transport)]
            }
            let what = proto == .any ? "any traffic" : "\(proto.rawValue) \(ports.map { "\($0)" } ?? "every port")"
            chain.rules.append(FilterRule(matches: matches, verdict: .drop, comment: "security groups \(side): \(what) not allowed"))
        }
    }

    /// ICMPv6 neighbour discovery passes every filter of this table: without it IPv6 stops.
    func neighbourDiscovery(inbound: Bool, verdict: Verdict) -> [FilterRule] {
        let types: [ICMPv6Type] = inbound ? [.routerAdvert, .neighborSolicit, .neighborAdvert]
                                          : [.routerSolicit, .neighborSolicit, .neighborAdvert]
        return types.map { FilterRule(matches: [.icmpv6($0)], verdict: verdict, comment: "neighbour discovery is never filtered") }
    }

    /// A NACL entry or security-group rule: the peer's prefix (source inbound, destination
    /// outbound) and the destination port.
    func entryMatches(_ proto: IPProtocol, _ ports: PortRange?, _ cidr: CIDR, inbound: Bool) -> [FilterMatch] {
        var matches: [FilterMatch] = []
        if cidr.prefixLength == 0 {
            matches.append(.family(IPFamily.of(cidr.network)))
        } else {
            matches.append(.prefix(cidr, inbound ? .source : .destination))
        }
        if let transport = transport(proto) {
            matches.append(ports.map { .port(transport, $0, .destination) } ?? .l4proto(transport))
        }
        return matches
    }

    func transport(_ p: IPProtocol) -> Service.Transport? {
        switch p {
        case .tcp: return .tcp
        case .udp: return .udp
        case .any: return nil
        }
    }

    func listenerMatch(_ ip: IPAddress) -> [FilterMatch] {
        isUnspecified(ip) ? [.family(IPFamily.of(ip))] : [.prefix(host(ip), .destination)]
    }

    func sourceMatch(_ ip: IPAddress) -> [FilterMatch] {
        isUnspecified(ip) ? [.family(IPFamily.of(ip))] : [.prefix(host(ip), .source)]
    }

    func host(_ ip: IPAddress) -> CIDR { CIDR(network: ip, prefixLength: ip.isV4 ? 32 : 128) }

    func isUnspecified(_ ip: IPAddress) -> Bool { ip == .v4(0) || ip == .v6(high: 0, low: 0) }

    func single(_ port: UInt16) -> PortRange { PortRange(low: port, high: port) }

    func describe(_ ip: IPAddress, _ s: Service) -> String {
        "\(SocketAddress(ip: ip, port: s.port)) \(s.transport.rawValue)"
    }
}
