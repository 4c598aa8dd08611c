/// DNSWire owns the DNS message format (RFC 1035, 3596, 6891 and the record types a forwarder
/// must understand): headers read and written in place, names, questions, resource records with
/// typed views, EDNS(0), name decompression with every RFC 1035 §4.1.4 guard, compression on
/// write, and truncation to a size with TC.
///
/// It is bytes in, values out: it must never import sockets, clocks, logging, Foundation or any
/// other dnsbridge module. Hostile input is rejected with a `WireError`, never a trap.
public enum DNSWire {
    /// RFC 1035 §2.3.4: a name is at most 255 octets in wire form, a label at most 63.
    public static let maxNameLength = 255
    public static let maxLabelLength = 63
    /// A DNS message is carried in at most 65 535 octets (the TCP length prefix is 16 bits).
    public static let maxMessageSize = 65_535
    /// A pointer chain longer than this cannot be honest: a 255-octet name has at most 127 labels.
    public static let maxCompressionPointers = 127
}
