/// Forwarder owns the routing decision and, as later issues land, the exchange with upstreams:
/// rules (a reversed-label trie giving the most specific rule per endpoint), endpoint and pool
/// specifications, and the explanation of a decision for `dnsbridge explain`.
///
/// It builds on DNSWire and Addressing only. It must never import the Gateway (commands,
/// configuration files, listeners), NetIsolation, or C libraries: it receives validated values.
public enum Forwarder {}
