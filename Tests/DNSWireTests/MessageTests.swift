import DNSWire
import Testing

@Suite("messages")
struct MessageTests {
    func txtAnswers(_ count: Int, size: Int) -> Message {
        Message(header: Header(id: 7, flags: 0x8180), questions: [Question(name: name("big.example"), type: .txt)],
                answers: (0..<count).map { i in
                    ResourceRecord(name: name("r\(i).big.example"), type: .txt, ttl: 60,
                                   data: .txt([Array(repeating: UInt8(0x41 + i % 26), count: size)]))
                },
                additionals: [ResourceRecord(name: name("extra.example"), type: .a, ttl: 60, data: .a(IPv4Bytes(198, 18, 0, 9)))],
                edns: EDNS(udpPayloadSize: 1232))
    }

    @Test func truncationKeepsWhatFitsAndSetsTC() throws {
        let m = txtAnswers(10, size: 200)
        let bytes = try m.serialize(maxSize: 1232)
        #expect(bytes.count <= 1232)
        let back = try Message(parsing: bytes)
        #expect(back.header.truncated)
        #expect(back.answers.count == 5)  // each record is ~225 octets
        #expect(back.answers == Array(m.answers.prefix(5)))
        #expect(back.additionals.isEmpty)
        #expect(back.edns == m.edns)  // OPT always survives
        #expect(back.questions == m.questions)
    }

    @Test func untruncatedWhenItFits() throws {
        let m = txtAnswers(3, size: 100)
        let back = try Message(parsing: m.serialize(maxSize: 1232))
        #expect(!back.header.truncated)
        #expect(back == m)
    }

    @Test func rrsetsAreKeptWhole() throws {
        var m = txtAnswers(0, size: 0)
        m.answers = (0..<8).map { i in
            ResourceRecord(name: name("same.example"), type: .txt, ttl: 60, data: .txt([Array(repeating: UInt8(0x30 + i), count: 100)]))
        }
        let back = try Message(parsing: m.serialize(maxSize: 512))
        #expect(back.header.truncated)
        #expect(back.answers.isEmpty)
    }

    @Test func droppingOnlyAdditionalsDoesNotSetTC() throws {
        var m = txtAnswers(1, size: 100)
        m.additionals = (0..<20).map { i in
            ResourceRecord(name: name("x\(i).example"), type: .txt, ttl: 60, data: .txt([Array(repeating: 0x61, count: 50)]))
        }
        let back = try Message(parsing: m.serialize(maxSize: 512))
        #expect(!back.header.truncated)
        #expect(back.answers.count == 1)
        #expect(back.additionals.count < 20)
    }

    @Test func headerInPlace() throws {
        var bytes = try txtAnswers(1, size: 10).serialize()
        bytes.withUnsafeMutableBytes { p in
            WireHeader.setID(p, 0xCAFE)
            WireHeader.setTruncated(p, true)
        }
        bytes.withUnsafeBytes { p in
            #expect(WireHeader.id(p) == 0xCAFE)
            #expect(WireHeader.isResponse(p))
            #expect(WireHeader.answerCount(p) == 1)
            #expect(WireHeader.additionalCount(p) == 2)  // the A record and OPT
        }
        let back = try Message(parsing: bytes)
        #expect(back.header.id == 0xCAFE && back.header.truncated && back.header.recursionDesired)
    }

    @Test func headerFlags() {
        var h = Header()
        h.isResponse = true; h.opcode = .notify; h.authoritative = true; h.checkingDisabled = true; h.rcodeLow = 3
        #expect(h.flags == 0x8000 | 0x2000 | 0x0400 | 0x0010 | 3)
        #expect(h.opcode == .notify && h.rcodeLow == 3 && !h.truncated)
    }

    @Test func ednsFieldsRoundTrip() throws {
        var m = Message(header: Header(id: 1), questions: [Question(name: name("e.example"), type: .a)],
                        edns: EDNS(udpPayloadSize: 4096, version: 0, dnssecOK: true, otherFlags: 0x1234,
                                   options: [EDNS.Option(code: 10, data: Array(repeating: 7, count: 8)), EDNS.Option(code: 12, data: [])]))
        m.rcode = .badVers
        let back = try Message(parsing: m.serialize())
        #expect(back == m)
        #expect(back.rcode == .badVers && back.header.rcodeLow == 0 && back.edns?.extendedRCodeHigh == 1)
        #expect(back.edns?.effectivePayloadSize == 4096)
        #expect(EDNS(udpPayloadSize: 100).effectivePayloadSize == 512)
    }
}
