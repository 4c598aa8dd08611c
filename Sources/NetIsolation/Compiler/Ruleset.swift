import Addressing

/// The nftables objects of the table dnsbridge owns, as the compiler produces them: rendered to
/// nft syntax for `plan`, encoded to netlink messages for `apply`. Every rule counts what it
/// matches and carries a comment naming the configuration object it came from.
public struct Ruleset: Sendable, Equatable {
    public static let family = "inet"
    public static let tableName = "dnsbridge"

    public var sets: [AddressSet] = []
    public var chains: [FilterChain] = []
}

public enum IPFamily: Sendable, Equatable {
    case v4, v6

    static func of(_ a: IPAddress) -> IPFamily { a.isV4 ? .v4 : .v6 }
}

/// A named interval set of addresses: the prefixes of one configured list, merged into disjoint
/// ranges so the kernel and nft agree on its elements.
public struct AddressSet: Sendable, Equatable {
    public var name: String
    public var family: IPFamily
    public var ranges: [AddressRange]
}

/// Inclusive bounds.
public struct AddressRange: Sendable, Equatable {
    public var first: IPAddress
    public var last: IPAddress
}

public struct FilterChain: Sendable, Equatable {
    public var name: String
    /// nil for a regular chain reached by jumps.
    public var hook: BaseHook?
    public var rules: [FilterRule] = []
}

/// Where a base chain hangs and when it runs. Priorities: `raw` (-300), before connection
/// tracking, so untracked traffic never creates a conntrack entry; `filter` (0) for the rest.
/// Policies are always accept: this table only drops what it owns.
public struct BaseHook: Sendable, Equatable {
    public enum Hook: String, Sendable { case prerouting, input, output }
    public enum Priority: Int32, Sendable { case raw = -300, filter = 0 }
    public var hook: Hook
    public var priority: Priority
}

public enum AddressSide: Sendable, Equatable { case source, destination }

public enum FilterMatch: Sendable, Equatable {
    /// `iif "lo"` / `oif "lo"`.
    case loopback(inbound: Bool)
    /// `iifname` / `oifname`.
    case interface(String, inbound: Bool)
    /// `ct state established,related`.
    case established
    /// `meta nfproto`: for wildcard listeners, which match a family but no address.
    case family(IPFamily)
    /// `meta l4proto`: a protocol without ports.
    case l4proto(Service.Transport)
    case prefix(CIDR, AddressSide)
    case addressSet(name: String, IPFamily, AddressSide)
    case port(Service.Transport, PortRange, AddressSide)
    /// ICMPv6 neighbour discovery, which isolation never filters.
    case icmpv6(ICMPv6Type)
}

public enum ICMPv6Type: UInt8, Sendable, CaseIterable {
    case routerSolicit = 133, routerAdvert = 134, neighborSolicit = 135, neighborAdvert = 136

    var nftName: String {
        switch self {
        case .routerSolicit: return "nd-router-solicit"
        case .routerAdvert: return "nd-router-advert"
        case .neighborSolicit: return "nd-neighbor-solicit"
        case .neighborAdvert: return "nd-neighbor-advert"
        }
    }
}

public enum Verdict: Sendable, Equatable {
    case accept, drop
    /// Back to the calling chain: a NACL's allow hands the packet on to the security groups.
    case `return`
    case jump(String)
    /// A statement, not a verdict: the packet skips connection tracking and goes on.
    case notrack
}

public struct FilterRule: Sendable, Equatable {
    public var matches: [FilterMatch]
    public var verdict: Verdict
    /// Names the configuration object the rule came from; `verify` keys rules by it.
    public var comment: String
}
