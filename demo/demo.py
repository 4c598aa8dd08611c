#!/usr/bin/python3
"""`make demo`: an on-premises network, a VPC network and a dnsbridge gateway between them, in
network namespaces (198.18.0.0/15 only), shown with dig. Everything is removed at the end, also
on Ctrl-C.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests/integration"))
import netlab  # noqa: E402


def step(title, host, server, name, rtype="A", *options):
    print(f"\n== {title}")
    print(f"   {host}$ dig @{server} {name} {rtype} {' '.join(options)}".rstrip())
    out = lab.dig(host, server, name, rtype, *options)
    for line in out.splitlines():
        if "status:" in line or "timed out" in line or (line and not line.startswith(";") and line.strip()):
            print("   " + line.strip())


def terminate(signum, frame):
    raise SystemExit(130)


signal.signal(signal.SIGTERM, terminate)
lab = netlab.Lab("demo")
try:
    print("building namespaces: onprem (dc1, dc2, client), vpc (vpcdns, vclient), gw ...")
    lab.build()
    lab.start_targets()
    lab.start_gateway()
    print(open(lab.write_config()).read())
    step("a VPC workload resolves an on-premises name (outbound endpoint, rule corp -> onprem-dc)",
         "vclient", "198.18.2.1", "www.corp.example")
    step("an on-premises client resolves a cloud name (inbound endpoint -> system pool vpc-resolver)",
         "client", "198.18.1.1", "app.cloud.internal")
    step("the system rule carves public.corp.example out of the corp forward: the VPC's own zone answers",
         "vclient", "198.18.2.1", "www.public.corp.example")
    step("a client outside the endpoint's allow list (198.18.2.200 is not in 198.18.2.0/25) is refused",
         "vclient", "198.18.2.1", "www.corp.example", "A", "-b", "198.18.2.200")
    step("IPv6: the inbound endpoint also listens on [2001:db8:1::1]:53",
         "client", "2001:db8:1::1", "app.cloud.internal")
    print("\n== failover: dc1 (first target of onprem-dc) is stopped")
    for name, p in lab.processes:
        if name == "nsd-dc1":
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=5)
    start = time.monotonic()
    step("the query still answers: the try to dc1 times out and is retried on dc2 over IPv6",
         "vclient", "198.18.2.1", "db.corp.example")
    print(f"   answered in {time.monotonic() - start:.2f} s")
    print("\n== isolation: the gateway reloads with isolation enabled and programs table inet dnsbridge")
    lab.write_config("isolation:\n  enabled: true\n")
    os.kill(lab.gateway.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "isolation applied" not in lab.gateway_output() and time.monotonic() < deadline:
        time.sleep(0.1)
    step("the client outside allow now gets no packet back at all: nftables drops its query",
         "vclient", "198.18.2.1", "www.corp.example", "A", "-b", "198.18.2.200")
    step("an allowed client is still answered", "vclient", "198.18.2.1", "www.corp.example")
    chain = lab.sh("gw", "nft list chain inet dnsbridge endpoint-from-vpc").stdout
    print("   gw$ nft list chain inet dnsbridge endpoint-from-vpc")
    for line in chain.splitlines():
        if "counter" in line:
            print("   " + line.strip())
    print("\n(not built yet: the control API and metrics, the query log, DoT/DoH)")
    lab.stop_gateway()
    print("\ndnsbridge log:")
    print(lab.gateway_output())
finally:
    lab.close()
    print("namespaces and processes removed")
