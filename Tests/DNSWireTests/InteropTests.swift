import DNSWire
import Testing

/// Each case is a message built from Swift values and the bytes dnspython produced for the same
/// message (Tests/interop/dnspython_fixtures.py, re-checked against dnspython by `make test`).
/// Serialising must give exactly those bytes (same compression choices), and parsing them must
/// give back the value.
struct InteropCase: CustomTestStringConvertible, Sendable {
    var key: String
    var message: Message
    /// False where dnspython departs from an RFC we follow (see the case).
    var byteExact = true
    var testDescription: String { key }
}

let q = Header(id: 0x1234, flags: 0x0100)
let r = Header(id: 0xBEEF, flags: 0x8100)
let soa = RData.SOA(mname: name("ns1.example.com"), rname: name("hostmaster.example.com"), serial: 2024010101,
                    refresh: 7200, retry: 3600, expire: 1209600, minimum: 300)

let interopCases: [InteropCase] = [
    InteropCase(key: "query_a", message: Message(header: q, questions: [Question(name: name("www.example.com"), type: .a)])),
    InteropCase(key: "query_aaaa_edns_do_option", message: Message(
        header: q, questions: [Question(name: name("example.com"), type: .aaaa)],
        edns: EDNS(udpPayloadSize: 1232, dnssecOK: true, options: [EDNS.Option(code: 65001, data: [1, 2, 3])]))),
    InteropCase(key: "query_root_ns_no_rd", message: Message(header: Header(id: 0x1234, flags: 0),
                                                             questions: [Question(name: .root, type: .ns)])),
    InteropCase(key: "response_all_types", message: Message(
        header: Header(id: 0xBEEF, flags: 0x8500),
        questions: [Question(name: name("example.com"), type: .any)],
        answers: [
            ResourceRecord(name: name("example.com"), type: .a, ttl: 300, data: .a(IPv4Bytes(192, 0, 2, 1))),
            ResourceRecord(name: name("example.com"), type: .aaaa, ttl: 300,
                           data: .aaaa(IPv6Bytes([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]))),
            ResourceRecord(name: name("alias.example.com"), type: .cname, ttl: 60, data: .cname(name("example.com"))),
            ResourceRecord(name: name("example.com"), type: .ns, ttl: 3600, data: .ns(name("ns1.example.com"))),
            ResourceRecord(name: name("1.2.0.192.in-addr.arpa"), type: .ptr, ttl: 300, data: .ptr(name("example.com"))),
            ResourceRecord(name: name("example.com"), type: .soa, ttl: 3600, data: .soa(soa)),
            ResourceRecord(name: name("example.com"), type: .mx, ttl: 300,
                           data: .mx(preference: 10, exchange: name("mail.example.com"))),
            ResourceRecord(name: name("example.com"), type: .txt, ttl: 300,
                           data: .txt([Array("v=spf1 -all".utf8), Array("second string".utf8)])),
            ResourceRecord(name: name("example.com"), type: .caa, ttl: 300,
                           data: .caa(flags: 0, tag: Array("issue".utf8), value: Array("letsencrypt.org".utf8))),
            ResourceRecord(name: name("example.com"), type: RecordType(rawValue: 65280), ttl: 300,
                           data: .opaque([0xde, 0xad, 0xbe, 0xef])),
        ])),
    InteropCase(key: "response_srv_compressed_by_dnspython", message: Message(
        header: r, questions: [Question(name: name("_sip._udp.example.com"), type: .srv)],
        answers: [ResourceRecord(name: name("_sip._udp.example.com"), type: .srv, ttl: 300,
                                 data: .srv(priority: 10, weight: 60, port: 5060, target: name("sip.example.com")))]),
        byteExact: false),
    InteropCase(key: "response_nxdomain_soa", message: Message(
        header: Header(id: 0xBEEF, flags: 0x8503),
        questions: [Question(name: name("nope.example.com"), type: .a)],
        authorities: [ResourceRecord(name: name("example.com"), type: .soa, ttl: 300,
                                     data: .soa(RData.SOA(mname: name("ns1.example.com"), rname: name("hostmaster.example.com"),
                                                          serial: 1, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300)))])),
    InteropCase(key: "response_badvers_extended_rcode", message: Message(
        header: r, questions: [Question(name: name("example.com"), type: .a)],
        edns: EDNS(udpPayloadSize: 4096, extendedRCodeHigh: 1))),
    InteropCase(key: "response_case_compression", message: Message(
        header: r, questions: [Question(name: name("WWW.Example.COM"), type: .a)],
        answers: [
            ResourceRecord(name: name("www.example.com"), type: .a, ttl: 30, data: .a(IPv4Bytes(198, 18, 0, 1))),
            ResourceRecord(name: name("www.example.com"), type: .a, ttl: 30, data: .a(IPv4Bytes(198, 18, 0, 2))),
        ])),
]

@Suite("dnspython interop")
struct InteropTests {
    @Test(arguments: interopCases)
    func parsesDnspythonBytes(_ c: InteropCase) throws {
        let parsed = try Message(parsing: fixture(c.key))
        #expect(parsed == c.message)
    }

    @Test(arguments: interopCases.filter(\.byteExact))
    func serialisesToDnspythonBytes(_ c: InteropCase) throws {
        #expect(try c.message.serialize() == fixture(c.key))
    }

    @Test func srvTargetIsNeverCompressed() throws {
        let c = interopCases.first { $0.key == "response_srv_compressed_by_dnspython" }!
        let bytes = try c.message.serialize()
        // The target "sip.example.com" is spelled out in full at the end of the RDATA.
        let spelled: [UInt8] = [3] + Array("sip".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0]
        #expect(Array(bytes.suffix(spelled.count)) == spelled)
        #expect(try Message(parsing: bytes) == c.message)
    }

    @Test func caseOfQuestionIsKept() throws {
        let parsed = try Message(parsing: fixture("response_case_compression"))
        #expect(parsed.questions[0].name.description == "WWW.Example.COM.")
        #expect(parsed.rcode == .noError)
    }

    @Test func extendedRCodeCombinesHeaderAndEDNS() throws {
        let parsed = try Message(parsing: fixture("response_badvers_extended_rcode"))
        #expect(parsed.rcode == .badVers)
        #expect(parsed.rcode.description == "BADVERS")
    }
}
