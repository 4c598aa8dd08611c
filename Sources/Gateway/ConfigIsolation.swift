import Addressing
import NetIsolation

/// The `isolation:` section: security groups and NACLs, validated here so `check` points at the
/// line; NetIsolation receives only the validated policy.
extension ConfigReader {
    mutating func readIsolation(_ node: YAMLNode) -> IsolationPolicy? {
        guard let m = mapping(node, what: "isolation", allowed: ["enabled", "remove_on_exit", "verify_interval", "notrack", "security_groups", "nacls"]) else {
            return nil
        }
        var policy = IsolationPolicy()
        if let n = m["enabled"], let v = bool(n, what: "enabled") { policy.enabled = v }
        if let n = m["remove_on_exit"], let v = bool(n, what: "remove_on_exit") { policy.removeOnExit = v }
        if let n = m["notrack"], let v = choice(n, what: "notrack", as: IsolationPolicy.Notrack.self) { policy.notrack = v }
        if let n = m["verify_interval"], let v = duration(n, what: "verify_interval") {
            if v.milliseconds != 0 && v.milliseconds < 1000 {
                diagnostics.error(n.line, "verify_interval must be 0s (never) or at least 1s")
            } else {
                policy.verifyIntervalMilliseconds = Int(v.milliseconds)
            }
        }
        var groupLines: [String: Int] = [:]
        policy.securityGroups = m["security_groups"].flatMap { n in
            list(n, what: "security_groups") { r, item in r.readSecurityGroup(item, seen: &groupLines) }
        } ?? []
        var naclLines: [String: Int] = [:]
        var interfaceLines: [String: (String, Int)] = [:]
        policy.nacls = m["nacls"].flatMap { n in
            list(n, what: "nacls") { r, item in r.readNACL(item, seen: &naclLines, interfaces: &interfaceLines) }
        } ?? []
        return policy
    }

    private mutating func readSecurityGroup(_ node: YAMLNode, seen: inout [String: Int]) -> SecurityGroup? {
        guard let m = mapping(node, what: "security group", allowed: ["name", "ingress", "egress"], required: ["name"]) else {
            return nil
        }
        guard let name = m["name"].flatMap({ string($0, what: "security group name") }) else { return nil }
        if let first = seen[name] {
            diagnostics.error(node.line, "duplicate security group name '\(name)' (first at line \(first))")
        }
        seen[name] = node.line
        let ingress = m["ingress"].flatMap { n in list(n, what: "ingress") { r, item in r.readGroupRule(item) } } ?? []
        let egress = m["egress"].flatMap { n in list(n, what: "egress") { r, item in r.readGroupRule(item) } } ?? []
        return SecurityGroup(name: name, ingress: ingress, egress: egress)
    }

    private mutating func readGroupRule(_ node: YAMLNode) -> SecurityGroupRule? {
        guard let m = mapping(node, what: "security group rule", allowed: ["protocol", "port", "cidr"],
                              required: ["protocol", "cidr"]) else { return nil }
        let proto = m["protocol"].flatMap { choice($0, what: "protocol", as: IPProtocol.self) }
        let ports = m["port"].flatMap { portRange($0, what: "port") }
        let prefix = m["cidr"].flatMap { self.cidr($0, what: "cidr") }
        guard let proto, let prefix else { return nil }
        guard checkPorts(proto, ports, line: m.keyLine("port")) else { return nil }
        return SecurityGroupRule(protocol: proto, ports: ports, cidr: prefix)
    }

    private mutating func readNACL(_ node: YAMLNode, seen: inout [String: Int],
                                   interfaces: inout [String: (String, Int)]) -> NACL? {
        guard let m = mapping(node, what: "nacl", allowed: ["name", "interface", "ingress", "egress"],
                              required: ["name", "interface"]) else { return nil }
        let name = m["name"].flatMap { string($0, what: "nacl name") }
        let interface = m["interface"].flatMap { string($0, what: "interface") }
        if let name {
            if let first = seen[name] { diagnostics.error(node.line, "duplicate nacl name '\(name)' (first at line \(first))") }
            seen[name] = node.line
        }
        if let interface, let name {
            if interface.count > 15 || interface.contains("/") || interface.contains(" ") {
                diagnostics.error(m.keyLine("interface"), "'\(interface)' is not a Linux interface name (at most 15 characters, no '/' or spaces)")
            }
            if let (other, line) = interfaces[interface] {
                diagnostics.error(m.keyLine("interface"), "interface \(interface) already has nacl '\(other)' (line \(line)); an interface takes one nacl")
            }
            interfaces[interface] = (name, node.line)
        }
        let ingress = m["ingress"].flatMap { n in readNACLEntries(n, what: "ingress") } ?? []
        let egress = m["egress"].flatMap { n in readNACLEntries(n, what: "egress") } ?? []
        guard let name, let interface else { return nil }
        return NACL(name: name, interface: interface, ingress: ingress, egress: egress)
    }

    private mutating func readNACLEntries(_ node: YAMLNode, what: String) -> [NACLEntry]? {
        var numbers: [Int: Int] = [:]
        return list(node, what: what) { r, item in
            guard let entry = r.readNACLEntry(item) else { return nil }
            if let first = numbers[entry.number] {
                r.diagnostics.error(item.line, "duplicate \(what) entry number \(entry.number) (first at line \(first)); numbers decide the order, so each must be unique")
                return nil
            }
            numbers[entry.number] = item.line
            return entry
        }
    }

    private mutating func readNACLEntry(_ node: YAMLNode) -> NACLEntry? {
        guard let m = mapping(node, what: "nacl entry", allowed: ["number", "action", "protocol", "port", "cidr"],
                              required: ["number", "action", "protocol", "cidr"]) else { return nil }
        let number = m["number"].flatMap { integer($0, what: "number", range: 1...32_766) }
        let action = m["action"].flatMap { choice($0, what: "action", as: NACLEntry.Action.self) }
        let proto = m["protocol"].flatMap { choice($0, what: "protocol", as: IPProtocol.self) }
        let ports = m["port"].flatMap { portRange($0, what: "port") }
        let prefix = m["cidr"].flatMap { self.cidr($0, what: "cidr") }
        guard let number, let action, let proto, let prefix else { return nil }
        guard checkPorts(proto, ports, line: m.keyLine("port")) else { return nil }
        return NACLEntry(number: number, action: action, protocol: proto, ports: ports, cidr: prefix)
    }

    private mutating func checkPorts(_ proto: IPProtocol, _ ports: PortRange?, line: Int) -> Bool {
        if ports != nil, !proto.hasPorts {
            diagnostics.error(line, "a port needs protocol tcp or udp, not \(proto.rawValue)")
            return false
        }
        return true
    }
}

/// NACLs deny what no entry allows, statelessly and in both directions, so a NACL on the
/// interface an operator reaches the machine through can lock them out. Warned, not refused:
/// the operator may reach it another way.
extension ConfigReader {
    mutating func warnAboutLockout(_ policy: IsolationPolicy, control: ControlConfig?, line: Int) {
        var services = [("SSH", UInt16(22))]
        if let control, !control.listen.ip.isLoopback { services.append(("the control listener", control.listen.port)) }
        for nacl in policy.nacls {
            for (what, port) in services where !nacl.ingress.contains(where: { $0.allows(.tcp, port) }) {
                diagnostics.warning(line, "nacl \(nacl.name) allows no tcp \(port) in on \(nacl.interface): \(what) is unreachable through it")
            }
            if !nacl.egress.contains(where: { $0.allows(.tcp, 1024) && $0.allows(.tcp, 65535) }) {
                diagnostics.warning(line, "nacl \(nacl.name) allows no tcp out to ports 1024-65535 on \(nacl.interface): NACLs are stateless, so replies to SSH and other clients are dropped")
            }
        }
    }
}

extension NACLEntry {
    /// An allow entry that matches this protocol and destination port from some source.
    func allows(_ proto: IPProtocol, _ port: UInt16) -> Bool {
        action == .allow && (`protocol` == .any || `protocol` == proto) && (ports?.contains(port) ?? true)
    }
}

extension IPAddress {
    var isLoopback: Bool {
        switch self {
        case .v4(let v): return v >> 24 == 127
        case .v6(let h, let l): return h == 0 && l == 1
        }
    }
}
