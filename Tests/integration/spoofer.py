#!/usr/bin/python3
"""A hostile upstream for the spoofing test, run in a test namespace on ADDRESS:53.

For each query it first sends forgeries, then the genuine answer 50 ms later:
  - from the right address and port, with a wrong ID            (answer 198.18.66.66)
  - from the right address and port, right ID, another question (answer 198.18.66.68)
  - from another port (5353), with the right ID                 (answer 198.18.66.67)
  - the genuine answer                                          (answer 198.18.66.1)
A gateway that accepts anything but the last is wrong. A TXT query instead gets one honest
answer naming the address it came from (to check `source_addresses`), and an SOA query (the
gateway's health probe) a plain NOERROR that does not count. Serves at most MAX queries, then
exits.
"""
import socket
import sys
import time

import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

address = sys.argv[1]
limit = int(sys.argv[2]) if len(sys.argv) > 2 else 100
main = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
main.bind((address, 53))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
other.bind((address, 5353))


def answer(q, ip, qid=None, name=None):
    r = dns.message.make_response(q)
    if name is not None:
        # A new question object: make_response shares the query's, which must stay intact.
        r.question = [dns.rrset.RRset(dns.name.from_text(name), dns.rdataclass.IN, dns.rdatatype.A)]
    qname = r.question[0].name
    r.answer.append(dns.rrset.from_text(qname, 60, "IN", "A", ip))
    if qid is not None:
        r.id = qid
    return r.to_wire()


served = 0
while served < limit:
    data, peer = main.recvfrom(4096)
    q = dns.message.from_wire(data)
    if q.question[0].rdtype == dns.rdatatype.SOA:
        main.sendto(dns.message.make_response(q).to_wire(), peer)
        continue
    served += 1
    if q.question[0].rdtype == dns.rdatatype.TXT:
        r = dns.message.make_response(q)
        r.answer.append(dns.rrset.from_text(q.question[0].name, 0, "IN", "TXT", f'"{peer[0]}"'))
        main.sendto(r.to_wire(), peer)
        continue
    main.sendto(answer(q, "198.18.66.66", qid=(q.id + 1) & 0xFFFF), peer)
    main.sendto(answer(q, "198.18.66.68", name="other.spoof.example."), peer)
    other.sendto(answer(q, "198.18.66.67"), peer)
    time.sleep(0.05)
    main.sendto(answer(q, "198.18.66.1"), peer)
