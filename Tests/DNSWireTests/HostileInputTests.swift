import DNSWire
import Testing

/// Inputs an attacker or a broken peer sends. Each must be rejected with the stated error — never
/// a trap, a hang, or a silently wrong value.
struct HostileCase: CustomTestStringConvertible, Sendable {
    var label: String
    var bytes: [UInt8]
    var expected: WireError
    var testDescription: String { label }
}

/// A header with the given counts, ID 0xABCD, a plain query.
func header(qd: UInt16 = 1, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
    [0xAB, 0xCD, 0x01, 0x00] + [qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
}

let questionA: [UInt8] = [1, 0x61, 0, 0, 1, 0, 1]  // "a." A IN, at offset 12

/// An answer whose owner is reached through `count` pointers, each pointing at the previous one:
/// every pointer points backwards, so only the count guard stops it.
func pointerChain(_ count: Int) -> [UInt8] {
    var m = header(an: 2) + questionA
    // First record: owner root, TYPE65280, RDATA = the chain.
    var chain: [UInt8] = []
    let rdataStart = m.count + 11
    var previous = 12  // the question name
    for i in 0..<count {
        chain += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF)]
        previous = rdataStart + 2 * i
    }
    m += [0, 0xFF, 0x00, 0, 1, 0, 0, 0, 0, UInt8(chain.count >> 8), UInt8(chain.count & 0xFF)] + chain
    // Second record: owner is a pointer to the last link; A record.
    m += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF), 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]
    return m
}

let hostileCases: [HostileCase] = [
    HostileCase(label: "empty", bytes: [], expected: .truncated(offset: 0)),
    HostileCase(label: "five-byte header", bytes: [0, 1, 2, 3, 4], expected: .truncated(offset: 4)),
    HostileCase(label: "pointer to itself", bytes: header() + [0xC0, 12, 0, 1, 0, 1], expected: .forwardPointer(offset: 12)),
    HostileCase(label: "two pointers in a loop", bytes: header() + [0xC0, 14, 0xC0, 12, 0, 1, 0, 1],
                expected: .forwardPointer(offset: 12)),
    HostileCase(label: "forward pointer", bytes: header(an: 1) + [0xC0, 20, 0, 1, 0, 1] + questionA + [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0],
                expected: .forwardPointer(offset: 12)),
    HostileCase(label: "pointer into its own labels", bytes: header() + [1, 0x61, 0xC0, 12, 0, 1, 0, 1],
                expected: .forwardPointer(offset: 14)),
    HostileCase(label: "pointer chain longer than any name", bytes: pointerChain(130),
                expected: .tooManyPointers(offset: 12 + 7 + 11 + 260)),
    HostileCase(label: "label overruns the message", bytes: header() + [10, 0x61, 0x62, 0x63, 0, 0, 1],
                expected: .truncated(offset: 12)),
    HostileCase(label: "label type 0b01", bytes: header() + [0x41] + Array(repeating: 0x61, count: 65) + [0, 0, 1, 0, 1],
                expected: .badLabelType(offset: 12)),
    HostileCase(label: "label type 0b10", bytes: header() + [0x80, 0, 0, 1, 0, 1], expected: .badLabelType(offset: 12)),
    HostileCase(label: "name over 255 octets",
                bytes: header() + (0..<5).flatMap { _ in [63] + Array(repeating: UInt8(0x61), count: 63) } + [0, 0, 1, 0, 1],
                expected: .nameTooLong(offset: 12)),
    HostileCase(label: "name over 255 octets through pointers",
                bytes: header(an: 1) + [63] + Array(repeating: 0x61, count: 63) + [63] + Array(repeating: 0x62, count: 63)
                    + [63] + Array(repeating: 0x63, count: 63) + [0, 0, 1, 0, 1]
                    + [63] + Array(repeating: 0x64, count: 63) + [0xC0, 12] + [0, 1, 0, 1, 0, 0, 0, 0, 0, 0],
                expected: .nameTooLong(offset: 209)),
    HostileCase(label: "name missing its root octet", bytes: header() + [3, 0x61, 0x62, 0x63, 1], expected: .truncated(offset: 16)),
    HostileCase(label: "question count larger than the message", bytes: header(qd: 0xFFFF) + questionA,
                expected: .countsExceedMessage),
    HostileCase(label: "answer count larger than the message", bytes: header(an: 0xFFFF) + questionA,
                expected: .countsExceedMessage),
    HostileCase(label: "rdata shorter than its length", bytes: header(an: 1) + questionA + [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2],
                expected: .truncated(offset: 31)),
    HostileCase(label: "A record with 3 octets", bytes: header(an: 1) + questionA + [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3],
                expected: .badRdata(type: 1, offset: 31)),
    HostileCase(label: "CNAME name runs past RDLENGTH",
                bytes: header(an: 2) + questionA + [0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0x62, 0]
                    + [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4],
                expected: .badRdata(type: 5, offset: 31)),
    HostileCase(label: "TXT string past RDLENGTH", bytes: header(an: 1) + questionA + [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0, 2, 5, 0x61],
                expected: .badRdata(type: 16, offset: 31)),
    HostileCase(label: "SOA with short counters", bytes: header(an: 1) + questionA + [0xC0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 6, 0xC0, 12, 0xC0, 12, 0, 0],
                expected: .badRdata(type: 6, offset: 31)),
    HostileCase(label: "two OPT records", bytes: header(ar: 2) + questionA + [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0] + [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0],
                expected: .badOPT(offset: 30)),
    HostileCase(label: "OPT in the answer section", bytes: header(an: 1) + questionA + [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0],
                expected: .badOPT(offset: 19)),
    HostileCase(label: "OPT with a non-root owner", bytes: header(ar: 1) + questionA + [0xC0, 12, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0],
                expected: .badOPT(offset: 19)),
    HostileCase(label: "OPT option overruns", bytes: header(ar: 1) + questionA + [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 6, 0, 10, 0, 8, 1, 2],
                expected: .badRdata(type: 41, offset: 19)),
    HostileCase(label: "trailing garbage", bytes: header() + questionA + [0xFF], expected: .trailingData(offset: 19)),
    HostileCase(label: "65 536 octets", bytes: header(qd: 0) + Array(repeating: 0, count: 65_536 - 12),
                expected: .messageTooLarge(size: 65_536)),
]

@Suite("hostile input")
struct HostileInputTests {
    @Test(arguments: hostileCases)
    func rejected(_ c: HostileCase) {
        #expect(throws: c.expected) { try Message(parsing: c.bytes) }
    }

    @Test func pointerChainWithinTheBoundIsAccepted() throws {
        let m = try Message(parsing: pointerChain(100))
        #expect(m.answers.count == 2 && m.answers[1].name == name("a"))
    }

    /// The largest message a TCP length prefix can carry parses, and survives a round trip.
    @Test func largestMessageParses() throws {
        let overhead = 12 + questionA.count + 2 + 10
        let rdata = Array(repeating: UInt8(0x5A), count: 65_535 - overhead)
        let bytes = header(an: 1) + questionA + [0xC0, 12, 0xFF, 0x00, 0, 1, 0, 0, 0, 60]
            + [UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
        #expect(bytes.count == 65_535)
        let m = try Message(parsing: bytes)
        #expect(m.answers[0].data == .opaque(rdata))
        #expect(try m.serialize() == bytes)
    }

    /// Every prefix of a valid message is either the whole message or a typed error.
    @Test func everyTruncationIsATypedError() throws {
        let full = fixture("response_all_types")
        for n in 0..<full.count {
            #expect(throws: WireError.self) { try Message(parsing: Array(full[0..<n])) }
        }
    }
}
