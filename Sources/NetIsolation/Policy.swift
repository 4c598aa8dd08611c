import Addressing

/// Everything `isolation:` in the configuration says.
public struct IsolationPolicy: Sendable {
    /// When true, endpoints' `allow` lists become security-group rules.
    public var enabled: Bool
    /// Remove the table when the gateway exits; off by default, since protection should outlive
    /// a crash.
    public var removeOnExit: Bool
    public var securityGroups: [SecurityGroup]
    public var nacls: [NACL]
    /// How often `run` compares the live table with the plan and repairs drift; 0: never.
    public var verifyIntervalMilliseconds: Int = 60_000
    public var notrack: Notrack = .auto

    /// Whether DNS over UDP is marked untracked in the raw hooks. The table's own rules for
    /// endpoints and targets never need connection tracking; marking is worth its cost only
    /// where tracking is on: with explicit security groups (which are stateful), or on a host
    /// whose other tables turn it on (Docker, a stateful host firewall) — `always`.
    public enum Notrack: String, Sendable, CaseIterable { case auto, always, never }

    public init(enabled: Bool = false, removeOnExit: Bool = false, securityGroups: [SecurityGroup] = [],
                nacls: [NACL] = []) {
        self.enabled = enabled; self.removeOnExit = removeOnExit
        self.securityGroups = securityGroups; self.nacls = nacls
    }
}

/// The layer-4 protocol a packet rule matches.
public enum IPProtocol: String, Sendable, CaseIterable {
    case tcp, udp, any

    /// Only TCP and UDP have ports to match.
    public var hasPorts: Bool { self != .any }
}

/// A stateful allow list, as a cloud security group: anything not allowed is dropped, and
/// replies to allowed traffic pass.
public struct SecurityGroup: Sendable {
    public var name: String
    public var ingress: [SecurityGroupRule]
    public var egress: [SecurityGroupRule]

    public init(name: String, ingress: [SecurityGroupRule], egress: [SecurityGroupRule]) {
        self.name = name; self.ingress = ingress; self.egress = egress
    }
}

public struct SecurityGroupRule: Sendable {
    public var `protocol`: IPProtocol
    /// nil: every port (and required for `any`).
    public var ports: PortRange?
    public var cidr: CIDR

    public init(protocol: IPProtocol, ports: PortRange?, cidr: CIDR) {
        self.protocol = `protocol`; self.ports = ports; self.cidr = cidr
    }
}

/// A stateless, numbered access list bound to one interface: entries are evaluated lowest number
/// first, the first match decides, and a packet that matches none is denied.
public struct NACL: Sendable {
    public var name: String
    public var interface: String
    /// Sorted by number.
    public var ingress: [NACLEntry]
    public var egress: [NACLEntry]

    public init(name: String, interface: String, ingress: [NACLEntry], egress: [NACLEntry]) {
        self.name = name; self.interface = interface
        self.ingress = ingress.sorted { $0.number < $1.number }
        self.egress = egress.sorted { $0.number < $1.number }
    }
}

public struct NACLEntry: Sendable {
    public enum Action: String, Sendable, CaseIterable { case allow, deny }

    public var number: Int
    public var action: Action
    public var `protocol`: IPProtocol
    public var ports: PortRange?
    public var cidr: CIDR

    public init(number: Int, action: Action, protocol: IPProtocol, ports: PortRange?, cidr: CIDR) {
        self.number = number; self.action = action; self.protocol = `protocol`
        self.ports = ports; self.cidr = cidr
    }
}
