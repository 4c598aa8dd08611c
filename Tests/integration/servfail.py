#!/usr/bin/python3
"""A broken upstream for the failover tests: answers SERVFAIL to every query on ADDRESS:53.
Stops by itself after SECONDS (default 60) if nobody stops it first."""
import select
import socket
import sys
import time

import dns.message
import dns.rcode

address = sys.argv[1]
deadline = time.monotonic() + (float(sys.argv[2]) if len(sys.argv) > 2 else 60)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((address, 53))
while time.monotonic() < deadline:
    ready, _, _ = select.select([s], [], [], 0.5)
    if not ready:
        continue
    data, peer = s.recvfrom(4096)
    try:
        r = dns.message.make_response(dns.message.from_wire(data))
    except Exception:
        continue
    r.set_rcode(dns.rcode.SERVFAIL)
    s.sendto(r.to_wire(), peer)
