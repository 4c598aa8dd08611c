/// NetIsolation owns the gateway's port-53 exposure as a cloud models it: security groups
/// (stateful allow lists) and network ACLs (stateless, numbered, first match wins). This module
/// holds the validated model; compiling it to nftables objects and programming them through
/// libnftnl/libmnl arrive with the isolation issue.
///
/// It builds on Addressing only. It must never import the Gateway, Forwarder or DNSWire: it
/// receives a validated policy and knows nothing of DNS messages.
public enum NetIsolation {}
