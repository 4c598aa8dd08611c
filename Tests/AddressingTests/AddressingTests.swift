import Addressing
import Testing

@Suite("addresses")
struct AddressingTests {
    @Test(arguments: [
        ("192.168.0.0/16", "192.168.0.0/16"), ("10.0.0.1", "10.0.0.1/32"), ("::/0", "::/0"),
        ("2001:DB8::/32", "2001:db8::/32"), ("0.0.0.0/0", "0.0.0.0/0"), ("fe80::1/128", "fe80::1/128"),
    ])
    func cidrParses(_ text: String, _ printed: String) throws {
        #expect(try CIDR(parsing: text).description == printed)
    }

    @Test func cidrRejects() {
        #expect(throws: CIDR.ParseError.hostBitsSet("192.168.1.5/24", suggestion: "192.168.1.0/24")) {
            try CIDR(parsing: "192.168.1.5/24")
        }
        #expect(throws: CIDR.ParseError.badPrefixLength("10.0.0.0/33")) { try CIDR(parsing: "10.0.0.0/33") }
        #expect(throws: CIDR.ParseError.badPrefixLength("::/129")) { try CIDR(parsing: "::/129") }
        #expect(throws: CIDR.ParseError.notAnAddress("10.0.0/8")) { try CIDR(parsing: "10.0.0/8") }
        #expect(throws: CIDR.ParseError.notAnAddress("example.com")) { try CIDR(parsing: "example.com") }
    }

    @Test func cidrContains() throws {
        let v4 = try CIDR(parsing: "198.18.0.0/15")
        #expect(v4.contains(IPAddress("198.19.255.255")!))
        #expect(!v4.contains(IPAddress("198.20.0.0")!))
        #expect(!v4.contains(IPAddress("::ffff:198.18.0.1")!))
        let v6 = try CIDR(parsing: "2001:db8:abcd:12::/63")
        #expect(v6.contains(IPAddress("2001:db8:abcd:13::1")!))
        #expect(!v6.contains(IPAddress("2001:db8:abcd:14::")!))
        #expect(try CIDR(parsing: "0.0.0.0/0").contains(IPAddress("203.0.113.9")!))
        #expect(try CIDR(parsing: "::/0").contains(IPAddress("::1")!))
        #expect(try !CIDR(parsing: "::/0").contains(IPAddress("127.0.0.1")!))
    }

    @Test(arguments: [
        ("10.20.0.10:53", "10.20.0.10:53"), ("10.20.0.10", "10.20.0.10:5353"), ("[2001:db8::1]:853", "[2001:db8::1]:853"),
        ("[::1]", "[::1]:5353"), ("2001:db8::1", "[2001:db8::1]:5353"),
    ])
    func socketAddressParses(_ text: String, _ printed: String) throws {
        #expect(try SocketAddress(parsing: text, defaultPort: 5353).description == printed)
    }

    @Test func socketAddressRejects() {
        #expect(throws: SocketAddress.ParseError.badPort("10.0.0.1:0")) { try SocketAddress(parsing: "10.0.0.1:0", defaultPort: 53) }
        #expect(throws: SocketAddress.ParseError.badPort("10.0.0.1:65536")) { try SocketAddress(parsing: "10.0.0.1:65536", defaultPort: 53) }
        #expect(throws: SocketAddress.ParseError.notAnAddress("dns.example:53")) { try SocketAddress(parsing: "dns.example:53", defaultPort: 53) }
        #expect(throws: SocketAddress.ParseError.ipv6NeedsBrackets("2001:db8::1:53:x")) { try SocketAddress(parsing: "2001:db8::1:53:x", defaultPort: 53) }
        #expect(throws: SocketAddress.ParseError.notAnAddress("[::1]53")) { try SocketAddress(parsing: "[::1]53", defaultPort: 53) }
    }

    @Test func portRanges() {
        #expect(PortRange(parsing: "53")?.description == "53")
        #expect(PortRange(parsing: "1024-65535") == PortRange(low: 1024, high: 65535))
        #expect(PortRange(parsing: "100-50") == nil)
        #expect(PortRange(parsing: "0") == nil)
        #expect(PortRange(parsing: "1-2-3") == nil)
    }

    @Test func addressOrderAndOctets() {
        #expect(IPAddress("10.0.0.1")! < IPAddress("10.0.0.2")!)
        #expect(IPAddress("255.255.255.255")! < IPAddress("::")!)
        #expect(IPAddress("2001:db8::1")!.octets == [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1])
        #expect(IPAddress("1.2.3.4")!.octets == [1, 2, 3, 4])
    }
}
