#!/usr/bin/python3
"""dnsbridge vs dnsdist, side by side, in one run (bench/compare.sh builds and calls this).

Both forward to the same nsd, inside a network namespace of their own (loopback only), with one
worker / listener thread each and no cache (dnsdist's packet cache is not configured). dnsperf
sends a cache-miss workload: unique names under a wildcard. Each server is measured ROUNDS
times, alternating, and the median is printed with the ratio. Queries/s, average and p99
latency come from dnsperf (p99 from its per-query verbose lines).

usage: compare.py DNSBRIDGE [SECONDS] [ROUNDS]
"""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

dnsbridge = sys.argv[1]
seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
ns = f"dnsbbench{os.getpid()}"
RATE = 5000
work = tempfile.mkdtemp(prefix="dnsbridge-bench-")
procs = []


def sh(*argv, check=True, **kw):
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, **kw)


def inside(*argv):
    return ["ip", "netns", "exec", ns] + list(argv)


def start(argv, log):
    p = subprocess.Popen(inside(*argv), stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(p)
    return p


def wait_dns(port, name, rtype="A"):
    for _ in range(50):
        r = sh(*inside("dig", "@127.0.0.1", "-p", str(port), name, rtype, "+time=1", "+tries=1", "+short"), check=False)
        if r.stdout.strip():
            return
        time.sleep(0.2)
    raise SystemExit(f"no answer on port {port}")


def dnsperf(port, rate=None):
    """Unlimited (`rate` None: as fast as 500 outstanding queries allow) or at a fixed rate."""
    names = os.path.join(work, "names.txt")
    limit = ["-Q", str(rate)] if rate else []
    r = subprocess.run(inside("dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", names, "-l", str(seconds),
                              "-c", "8", "-q", "500", "-t", "2", "-v", *limit), capture_output=True, text=True)
    out = r.stdout
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))
    completed = int(re.search(r"Queries completed:\s+(\d+)", out).group(1))
    latencies = sorted(float(m) for m in re.findall(r"^> \S+ \S+ \S+ ([\d.]+)$", out, re.M))
    avg = statistics.fmean(latencies) if latencies else float("nan")
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    return {"qps": qps, "avg_ms": avg * 1000, "p99_ms": p99 * 1000, "lost": lost, "completed": completed}


try:
    sh("ip", "netns", "add", ns)
    sh(*inside("ip", "link", "set", "lo", "up"))
    with open(os.path.join(work, "zone"), "w") as f:
        f.write("$ORIGIN load.example.\n$TTL 300\n@ IN SOA ns h 1 7200 3600 1209600 300\n@ IN NS ns\nns IN A 198.18.0.1\n* IN A 198.18.0.2\n")
    with open(os.path.join(work, "nsd.conf"), "w") as f:
        f.write(f"""server:
  ip-address: 127.0.0.1@5301
  username: ""
  chroot: ""
  database: ""
  zonesdir: "{work}"
  zonelistfile: "{work}/zone.list"
  xfrdfile: "{work}/xfrd.state"
  xfrdir: "{work}"
  pidfile: "{work}/nsd.pid"
  logfile: "{work}/nsd.log"
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
  server-count: 1
zone:
  name: load.example
  zonefile: zone
""")
    with open(os.path.join(work, "dnsbridge.yaml"), "w") as f:
        f.write("""workers: 1
endpoints:
  - { name: bench, direction: outbound, addresses: ["127.0.0.1:5300"], allow: ["127.0.0.0/8"], system_pool: nsd }
pools:
  - { name: nsd, targets: [ { address: "127.0.0.1:5301" } ] }
""")
    with open(os.path.join(work, "dnsdist.conf"), "w") as f:
        f.write("""setSecurityPollSuffix("")
setLocal("127.0.0.1:5303", { reusePort=true, rcvBuf=4194304, sndBuf=4194304 })
setACL({"127.0.0.0/8"})
newServer({ address="127.0.0.1:5301", name="nsd", sockets=8 })
setMaxUDPOutstanding(65535)
""")
    with open(os.path.join(work, "names.txt"), "w") as f:
        for i in range(500_000):
            f.write(f"q{i}.load.example A\n")
    start(["nsd", "-d", "-c", os.path.join(work, "nsd.conf")], os.path.join(work, "nsd.out"))
    wait_dns(5301, "load.example", "SOA")
    start([dnsbridge, "run", "--config", os.path.join(work, "dnsbridge.yaml")], os.path.join(work, "dnsbridge.out"))
    start(["dnsdist", "--supervised", "--disable-syslog", "-C", os.path.join(work, "dnsdist.conf")],
          os.path.join(work, "dnsdist.out"))
    wait_dns(5300, "w.load.example")
    wait_dns(5303, "w.load.example")

    servers = (("dnsbridge", 5300), ("dnsdist", 5303))
    peak = {"dnsbridge": [], "dnsdist": []}
    steady = {"dnsbridge": [], "dnsdist": []}
    for _ in range(rounds):
        for name, port in servers:
            peak[name].append(dnsperf(port))
            steady[name].append(dnsperf(port, rate=RATE))

    def table(title, results):
        print(title)
        print(f"  {'server':<10} {'queries/s':>10} {'avg ms':>8} {'p99 ms':>8} {'lost':>6}")
        med = {}
        for name, runs in results.items():
            med[name] = {k: statistics.median(r[k] for r in runs) for k in ("qps", "avg_ms", "p99_ms", "lost")}
            m = med[name]
            print(f"  {name:<10} {m['qps']:>10.0f} {m['avg_ms']:>8.3f} {m['p99_ms']:>8.3f} {m['lost']:>6.0f}")
        return med

    print(f"cache-miss workload (unique names under a wildcard), {seconds} s per run, median of {rounds}, one worker each")
    p = table("peak (500 queries outstanding):", peak)
    s = table(f"steady ({RATE} queries/s offered):", steady)
    print(f"ratio dnsbridge/dnsdist: peak queries/s {p['dnsbridge']['qps'] / p['dnsdist']['qps']:.2f}; "
          f"at {RATE} q/s, p99 latency {s['dnsbridge']['p99_ms'] / s['dnsdist']['p99_ms']:.2f} (below 1 is better)")
finally:
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
    sh("ip", "netns", "del", ns, check=False)
    shutil.rmtree(work, ignore_errors=True)
