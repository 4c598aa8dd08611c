#!/usr/bin/python3
"""Failover, dnsbridge vs dnsdist, back to back (bench/failover.sh builds and calls this).

The failover scenario of the tests (Tests/integration/failover.py) for each gateway: unique
names at 1 000 q/s for 20 s, the pool's first target failing at 5 s (dies / answers SERVFAIL /
blackholes) and restored at 12 s. dnsdist gets the equivalent pool: the same two targets in
order (firstAvailable), health-checked with the same question (corp.example SOA, 1 s interval,
2 failures down, 2 successes up, SERVFAIL unhealthy). Prints lost queries, SERVFAIL answers and
the time for the restored target to be back in service.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests/integration"))
import failover  # noqa: E402
import netlab  # noqa: E402

DNSDIST = """setSecurityPollSuffix("")
setLocal("198.18.2.1:53", {{ rcvBuf=4194304, sndBuf=4194304 }})
setACL({{"198.18.2.0/24"}})
newServer({{ address="198.18.1.53:53", name="dc1", order=1, checkName="corp.example.", checkType="SOA",
            checkInterval=1, checkTimeout=500, maxCheckFailures=2, rise=2, mustResolve=true }})
newServer({{ address="[2001:db8:1::54]:53", name="dc2", order=2, checkName="corp.example.", checkType="SOA",
            checkInterval=1, checkTimeout=500, maxCheckFailures=2, rise=2, mustResolve=true }})
setServerPolicy(firstAvailable)
"""


def start_dnsdist(lab):
    conf = os.path.join(lab.dir, "dnsdist.conf")
    with open(conf, "w") as f:
        f.write(DNSDIST.format())
    lab.start("dnsdist", "gw", ["dnsdist", "--supervised", "--disable-syslog", "-C", conf],
              log=os.path.join(lab.dir, "dnsdist.log"))
    lab.wait_for_dns("vclient", "198.18.2.1", "corp.example")


results = {}
for gateway in ("dnsbridge", "dnsdist"):
    for kind in failover.KINDS:
        lab = netlab.Lab("b")
        try:
            lab.build()
            lab.start_targets()
            if gateway == "dnsbridge":
                lab.start_gateway()
            else:
                start_dnsdist(lab)
            results[(gateway, kind)] = failover.run(lab, kind)
        finally:
            lab.close()

print("failover under 1 000 q/s of unique names for 20 s; the first target fails at 5 s, is restored at 12 s")
print(f"  {'gateway':<10} {'failure':<10} {'sent':>6} {'lost':>6} {'SERVFAIL':>9} {'back in service after':>22}")
for (gateway, kind), r in results.items():
    back = f"{r['recovered_after']:.1f} s" if r["recovered_after"] is not None else "not within 6 s"
    print(f"  {gateway:<10} {kind:<10} {r['sent']:>6} {r['lost']:>6} {r['servfail']:>9} {back:>22}")
