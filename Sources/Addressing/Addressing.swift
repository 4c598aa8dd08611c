/// Addressing owns the network address values that configuration, access control and isolation
/// share: IPv4/IPv6 addresses, CIDR prefixes, `ip:port` socket addresses and port ranges —
/// parsed, printed and matched without allocation on the matching path.
///
/// It is pure: it must never import sockets, clocks, logging, or any other dnsbridge module.
public enum Addressing {}
