/// EventIO owns the I/O layer shared by listeners, upstream exchanges and (later) probes: one
/// entry point for system calls (EINTR retried, would-block as a value, errno named with its
/// call), an epoll event loop with timers for one thread, and non-blocking UDP/TCP sockets for
/// IPv4 and IPv6 with batched datagram I/O.
///
/// It builds on Addressing and the CNetShim C target only. It must never import DNSWire,
/// Forwarder, NetIsolation or the Gateway: it moves bytes and knows nothing of DNS.
public enum EventIO {}
