#!/usr/bin/python3
"""Builds reference DNS messages with dnspython, the encoder nobody here wrote.

The Swift wire tests (Tests/DNSWireTests/InteropTests.swift) build the same messages from
Swift values and must produce these exact bytes, and must parse these bytes back into those
values. `--check FILE` regenerates the cases and fails if FILE differs, so the committed
fixtures can never drift from what dnspython really emits.
"""
import json
import sys

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset


def query(name, rdtype, **kw):
    q = dns.message.make_query(name, rdtype, **kw)
    q.id = 0x1234
    return q


def response(qname, rdtype, records, authority=(), rcode=dns.rcode.NOERROR, flags=0, edns=None):
    q = query(qname, rdtype)
    r = dns.message.make_response(q)
    r.id = 0xBEEF
    r.flags |= flags
    for owner, ttl, rtype, text in records:
        r.answer.append(dns.rrset.from_text(owner, ttl, "IN", rtype, text))
    for owner, ttl, rtype, text in authority:
        r.authority.append(dns.rrset.from_text(owner, ttl, "IN", rtype, text))
    if edns is not None:
        r.use_edns(**edns)
    r.set_rcode(rcode)
    return r


def cases():
    yield "query_a", query("www.example.com.", "A")
    yield "query_aaaa_edns_do_option", query(
        "example.com.", "AAAA", use_edns=0, payload=1232, want_dnssec=True,
        options=[dns.edns.GenericOption(65001, b"\x01\x02\x03")])
    yield "query_root_ns_no_rd", (lambda m: (setattr(m, "flags", 0), m)[1])(query(".", "NS"))
    yield "response_all_types", response("example.com.", "ANY", [
        ("example.com.", 300, "A", "192.0.2.1"),
        ("example.com.", 300, "AAAA", "2001:db8::1"),
        ("alias.example.com.", 60, "CNAME", "example.com."),
        ("example.com.", 3600, "NS", "ns1.example.com."),
        ("1.2.0.192.in-addr.arpa.", 300, "PTR", "example.com."),
        ("example.com.", 3600, "SOA", "ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"),
        ("example.com.", 300, "MX", "10 mail.example.com."),
        ("example.com.", 300, "TXT", '"v=spf1 -all" "second string"'),
        ("example.com.", 300, "CAA", '0 issue "letsencrypt.org"'),
        ("example.com.", 300, "TYPE65280", r"\# 4 deadbeef"),
    ], flags=dns.flags.AA)
    # dnspython compresses SRV targets although RFC 2782 forbids it: a parse-only case, proving
    # we read such answers while writing SRV targets uncompressed ourselves.
    yield "response_srv_compressed_by_dnspython", response("_sip._udp.example.com.", "SRV", [
        ("_sip._udp.example.com.", 300, "SRV", "10 60 5060 sip.example.com."),
    ])
    yield "response_nxdomain_soa", response("nope.example.com.", "A", [], authority=[
        ("example.com.", 300, "SOA", "ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"),
    ], rcode=dns.rcode.NXDOMAIN, flags=dns.flags.AA)
    yield "response_badvers_extended_rcode", response("example.com.", "A", [], rcode=dns.rcode.BADVERS,
                                                      edns={"edns": 0, "payload": 4096})
    yield "response_case_compression", response("WWW.Example.COM.", "A", [
        ("www.example.com.", 30, "A", "198.18.0.1"),
        ("www.example.com.", 30, "A", "198.18.0.2"),
    ])


def generate():
    return {name: msg.to_wire().hex() for name, msg in cases()}


def main(argv):
    out = generate()
    text = json.dumps(out, indent=2, sort_keys=True) + "\n"
    if len(argv) == 3 and argv[1] == "--check":
        with open(argv[2]) as f:
            committed = f.read()
        if committed != text:
            sys.stderr.write(f"{argv[2]} differs from what dnspython {dns.version.version} emits; "
                             "regenerate with: python3 Tests/interop/dnspython_fixtures.py > FILE\n")
            return 1
        print(f"dnspython fixtures: {len(out)} cases match dnspython {dns.version.version}")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
