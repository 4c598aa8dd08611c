#!/usr/bin/python3
"""DNS client actions run inside a test namespace (dnspython as the client nobody here wrote).
Each prints one JSON object. Every loop is bounded in count and time.

  query SERVER NAME TYPE [tcp] [source=IP] [payload=N] [noedns]
  pipeline SERVER COUNT NAME_SUFFIX      COUNT queries on one TCP connection, sent back to back
  malformed SERVER COUNT NAME            COUNT junk datagrams, then one valid query
  twice SERVER NAME                      the same question twice at once from one socket
  tcp_limits SERVER CONNECTIONS NAME     connection limit and idle timeout
  servers SERVER SUFFIX COUNT            which upstream answered COUNT TXT questions
"""
import json
import random
import socket
import struct
import sys
import time

import dns.flags
import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype


def family(server):
    return socket.AF_INET6 if ":" in server else socket.AF_INET


def query(server, name, rtype, *opts):
    kw = {}
    source = None
    use_tcp = "tcp" in opts
    payload = 1232
    edns = "noedns" not in opts
    for o in opts:
        if o.startswith("source="):
            source = o.split("=", 1)[1]
        if o.startswith("payload="):
            payload = int(o.split("=", 1)[1])
    q = dns.message.make_query(name, rtype, use_edns=0 if edns else False, payload=payload)
    fn = dns.query.tcp if use_tcp else dns.query.udp
    try:
        r = fn(q, server, timeout=3, source=source, **kw)
    except dns.exception.Timeout:
        return {"rcode": "TIMEOUT"}
    return {
        "rcode": dns.rcode.to_text(r.rcode()),
        "tc": bool(r.flags & dns.flags.TC),
        "id_matches": r.id == q.id,
        "question": r.question[0].name.to_text() if r.question else None,
        "answers": [rd.to_text() for rrset in r.answer for rd in rrset],
        "size": len(r.to_wire()),
        "edns_payload": r.payload if r.edns >= 0 else None,
    }


def pipeline(server, count, suffix):
    count = int(count)
    qs = [dns.message.make_query(f"p{i}.{suffix}", "A") for i in range(count)]
    # Answers are matched by ID: random IDs would collide one run in fifty.
    for q, qid in zip(qs, random.sample(range(65536), count)):
        q.id = qid
    s = socket.create_connection((server, 53), timeout=5)
    s.sendall(b"".join(struct.pack("!H", len(w)) + w for w in (q.to_wire() for q in qs)))
    want = {q.id: q for q in qs}
    got, order, buf = {}, [], b""
    deadline = time.monotonic() + 10
    while len(got) < count and time.monotonic() < deadline:
        chunk = s.recv(65535)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
            n = struct.unpack("!H", buf[:2])[0]
            m = dns.message.from_wire(buf[2:2 + n])
            buf = buf[2 + n:]
            got[m.id] = m
            order.append(m.id)
    s.close()
    matched = all(m.id in want and m.question[0].name == want[m.id].question[0].name for m in got.values())
    return {"answers": len(got), "matched": matched,
            "noerror": sum(1 for m in got.values() if m.rcode() == dns.rcode.NOERROR),
            "in_order": order == [q.id for q in qs]}


def drain(s):
    """Reads every datagram waiting on a non-blocking socket; returns how many."""
    n = 0
    try:
        while True:
            s.recv(4096)
            n += 1
    except BlockingIOError:
        return n


def malformed(server, count, name):
    count = int(count)
    rng = random.Random(1234)
    s = socket.socket(family(server), socket.SOCK_DGRAM)
    replies = 0
    s.setblocking(False)
    for i in range(count):
        kind = i % 4
        if kind == 0:
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12)))  # no header
        elif kind == 1:
            junk = struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + bytes([63]) + b"a" * 10  # label overrun
        elif kind == 2:
            junk = struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01"  # pointer loop
        else:
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(12, 300)))
        s.sendto(junk, (server, 53))
        if i % 100 == 99:
            time.sleep(0.01)  # do not overflow our own socket buffer
            replies += drain(s)
    time.sleep(0.3)
    replies += drain(s)
    result = query(server, name, "A")
    result["junk_replies"] = replies
    return result


def twice(server, name):
    """The same question twice at once, with two IDs, from one socket (as a stub resolver's
    retransmission arrives: same address and port, so the same gateway worker)."""
    qs = [dns.message.make_query(name, "A") for _ in range(2)]
    s = socket.socket(family(server), socket.SOCK_DGRAM)
    s.settimeout(3)
    for q in qs:
        s.sendto(q.to_wire(), (server, 53))
    replies = {}
    for _ in qs:
        r = dns.message.from_wire(s.recv(4096))
        replies[r.id] = r
    return {"answers": [[rd.to_text() for rrset in replies[q.id].answer for rd in rrset] if q.id in replies else []
                        for q in qs],
            "ids_match": sorted(replies) == sorted(q.id for q in qs)}


def tcp_limits(server, connections, name):
    """Opens CONNECTIONS TCP connections at once, asks one question on each; then checks that
    an idle connection is closed by the server. Counts what happened."""
    conns = []
    for _ in range(int(connections)):
        s = socket.create_connection((server, 53), timeout=3)
        conns.append(s)
    time.sleep(0.3)
    answered, closed = 0, 0
    for s in conns:
        q = dns.message.make_query(name, "A")
        w = q.to_wire()
        try:
            s.sendall(struct.pack("!H", len(w)) + w)
            data = s.recv(2)
            if len(data) == 2:
                answered += 1
            else:
                closed += 1
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            closed += 1
    for s in conns:
        s.close()
    idle = socket.create_connection((server, 53), timeout=5)
    start = time.monotonic()
    try:
        eof = idle.recv(1) == b""
    except ConnectionResetError:
        eof = True
    idle_closed_after = time.monotonic() - start
    idle.close()
    return {"answered": answered, "closed": closed, "idle_eof": eof, "idle_closed_after": idle_closed_after}


def servers(server, suffix, count):
    """COUNT TXT questions under SUFFIX, each from a new socket (so any worker may take it);
    returns how many answers each server gave."""
    seen = {}
    for i in range(int(count)):
        q = dns.message.make_query(f"q{i}.{suffix}", "TXT")
        r = dns.query.udp(q, server, timeout=3)
        text = "".join(rd.to_text() for rrset in r.answer for rd in rrset).strip('"') or dns.rcode.to_text(r.rcode())
        seen[text] = seen.get(text, 0) + 1
    return seen


def main(argv):
    action, args = argv[1], argv[2:]
    out = {"query": query, "pipeline": pipeline, "malformed": malformed, "twice": twice,
           "tcp_limits": tcp_limits, "servers": servers}[action](*args)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
