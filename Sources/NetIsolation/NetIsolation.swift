/// NetIsolation owns the gateway's port-53 exposure as a cloud models it: security groups
/// (stateful allow lists) and network ACLs (stateless, numbered, first match wins). It holds the
/// validated model (`Policy.swift`), what the gateway exposes (`Exposure.swift`), the compiler to
/// the objects of the one nftables table dnsbridge owns and their nft syntax (`Compiler/`), and
/// the programming of that table through libnftnl and libmnl in one netlink transaction
/// (`Netlink/`).
///
/// It builds on Addressing and the libnftnl/libmnl system library only. It must never import the
/// Gateway, Forwarder or DNSWire: it receives a validated policy and the exposure, and knows
/// nothing of DNS messages.
public enum NetIsolation {}
