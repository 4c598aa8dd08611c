import DNSWire
import Testing

@Suite("names")
struct NameTests {
    @Test(arguments: [
        ("www.example.com", [3, 0x77, 0x77, 0x77, 7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x63, 0x6f, 0x6d]),
        ("www.example.com.", [3, 0x77, 0x77, 0x77, 7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x63, 0x6f, 0x6d]),
        (".", []),
        ("a\\.b.c", [3, 0x61, 0x2e, 0x62, 1, 0x63]),
        ("\\065.b", [1, 0x41, 1, 0x62]),
    ] as [(String, [UInt8])])
    func textToWire(_ text: String, _ wire: [UInt8]) throws {
        #expect(try DNSName(text).wire == wire)
    }

    @Test(arguments: ["", "a..b", ".a", "a\\", "a\\25", "a\\256.b", String(repeating: "x", count: 64) + ".com",
                      (0..<4).map { _ in String(repeating: "y", count: 63) }.joined(separator: ".")])
    func badText(_ text: String) {
        #expect(throws: WireError.self) { try DNSName(text) }
    }

    @Test func presentationEscapesWhatMustBeEscaped() throws {
        let n = try DNSName(labels: [[0x61, 0x2e, 0x62], [0x00, 0x20, 0x5c]])
        #expect(n.description == "a\\.b.\\000\\032\\\\.")
        #expect(try DNSName(n.description) == n)
    }

    @Test func comparisonIgnoresCaseButKeepsIt() throws {
        let upper = try DNSName("WWW.Example.COM"), lower = try DNSName("www.example.com")
        #expect(upper == lower)
        #expect(upper.hashValue == lower.hashValue)
        #expect(upper.description == "WWW.Example.COM.")
        #expect(upper.canonical.description == "www.example.com.")
        #expect(try DNSName("www.exampl\\197.com") != lower)  // only ASCII letters fold
    }

    @Test func subdomainsMatchWholeLabels() throws {
        let corp = try DNSName("corp.example")
        #expect(try DNSName("a.b.CORP.example").isSubdomain(of: corp))
        #expect(corp.isSubdomain(of: corp))
        #expect(try !DNSName("xcorp.example").isSubdomain(of: corp))
        #expect(try !DNSName("example").isSubdomain(of: corp))
        #expect(corp.isSubdomain(of: .root))
        #expect(corp.parent.description == "example.")
        #expect(corp.labelCount == 2 && DNSName.root.labelCount == 0)
    }

    @Test func recordTypeText() {
        #expect(RecordType("aaaa") == .aaaa)
        #expect(RecordType("TYPE65") == .https)
        #expect(RecordType(rawValue: 65280).description == "TYPE65280")
        #expect(RecordType("BOGUS") == nil)
    }
}
