#!/usr/bin/python3
"""dnsbridge vs dnsdist, side by side, in one run (bench/compare.sh builds and calls this).

Both forward to the same nsd, inside a network namespace of their own (loopback only), with one
worker / listener thread each, and each with its cache (dnsdist: a packet cache of the same
size). Workloads: cache misses (unique names under a wildcard) and cache hits (300 names
repeated). dnsperf runs on CPU 0 and the servers on CPU 1 where the machine has two. Each
measurement is taken ROUNDS times, alternating servers, and the median is printed with the
ratio; queries/s, average and p99 latency come from dnsperf (p99 from its per-query lines).
Then each server is filled with ENTRIES unique answers and its resident memory measured. Last,
isolation: dnsbridge alone, queried across a veth from a client namespace (loopback is never
filtered), with its nftables table applied and flushed in alternate rounds; the ratio of
queries/s isolation-on / isolation-off is printed for both workloads. Between the two, the query
log: a fresh dnsbridge writing every query to a file on disk against one without.

usage: compare.py DNSBRIDGE [SECONDS] [ROUNDS] [ENTRIES]
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
entries = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000_000
pin = os.cpu_count() >= 2
ns = f"dnsbbench{os.getpid()}"
RATE = 5000
ISO_RATE = 40000
work = tempfile.mkdtemp(prefix="dnsbridge-bench-")
procs = []


def sh(*argv, check=True, **kw):
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, **kw)


def inside(*argv):
    return ["ip", "netns", "exec", ns] + list(argv)


def start(argv, log, cpu=None):
    if pin and cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + argv
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


def dnsperf(port, names, rate=None):
    """Unlimited (`rate` None: as fast as 500 outstanding queries allow) or at a fixed rate."""
    limit = ["-Q", str(rate)] if rate else []
    taskset = ["taskset", "-c", "0"] if pin else []
    r = subprocess.run(inside(*taskset, "dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", names, "-l", str(seconds),
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
        f.write(f"""workers: 1
cache: {{ max_entries: {entries} }}
endpoints:
  - {{ name: bench, direction: outbound, addresses: ["127.0.0.1:5300"], allow: ["127.0.0.0/8"], system_pool: nsd }}
pools:
  - {{ name: nsd, targets: [ {{ address: "127.0.0.1:5301" }} ] }}
""")
    with open(os.path.join(work, "dnsdist.conf"), "w") as f:
        f.write("""setSecurityPollSuffix("")
setLocal("127.0.0.1:5303", { reusePort=true, rcvBuf=4194304, sndBuf=4194304 })
setACL({"127.0.0.0/8"})
newServer({ address="127.0.0.1:5301", name="nsd", sockets=8 })
setMaxUDPOutstanding(65535)
getPool(""):setCache(newPacketCache(%d))
""" % entries)
    miss_names = os.path.join(work, "names.txt")
    with open(miss_names, "w") as f:
        for i in range(500_000):
            f.write(f"q{i}.load.example A\n")
    hit_names = os.path.join(work, "hits.txt")
    with open(hit_names, "w") as f:
        for i in range(300):
            f.write(f"hot{i}.load.example A\n")
    fill_names = {}
    for name in ("dnsbridge", "dnsdist"):
        fill_names[name] = os.path.join(work, f"fill-{name}.txt")
        with open(fill_names[name], "w") as f:
            for i in range(entries):
                f.write(f"m{i}.{name}.load.example A\n")
    start(["nsd", "-d", "-c", os.path.join(work, "nsd.conf")], os.path.join(work, "nsd.out"))
    wait_dns(5301, "load.example", "SOA")
    servers_started = {
        "dnsbridge": start([dnsbridge, "run", "--config", os.path.join(work, "dnsbridge.yaml")],
                           os.path.join(work, "dnsbridge.out"), cpu=1),
        "dnsdist": start(["dnsdist", "--supervised", "--disable-syslog", "-C", os.path.join(work, "dnsdist.conf")],
                         os.path.join(work, "dnsdist.out"), cpu=1),
    }
    wait_dns(5300, "w.load.example")
    wait_dns(5303, "w.load.example")

    servers = (("dnsbridge", 5300), ("dnsdist", 5303))
    results = {w: {"dnsbridge": [], "dnsdist": []} for w in ("miss-peak", "miss-steady", "hit-peak", "hit-steady")}
    for _ in range(rounds):
        for name, port in servers:
            results["miss-peak"][name].append(dnsperf(port, miss_names))
            results["miss-steady"][name].append(dnsperf(port, miss_names, rate=RATE))
            results["hit-peak"][name].append(dnsperf(port, hit_names))
            results["hit-steady"][name].append(dnsperf(port, hit_names, rate=RATE))

    def table(title, results):
        print(title)
        print(f"  {'server':<10} {'queries/s':>10} {'avg ms':>8} {'p99 ms':>8} {'lost':>6}")
        med = {}
        for name, runs in results.items():
            med[name] = {k: statistics.median(r[k] for r in runs) for k in ("qps", "avg_ms", "p99_ms", "lost")}
            m = med[name]
            print(f"  {name:<10} {m['qps']:>10.0f} {m['avg_ms']:>8.3f} {m['p99_ms']:>8.3f} {m['lost']:>6.0f}")
        return med

    print(f"{seconds} s per run, median of {rounds}, one worker each" + (", dnsperf on CPU 0, servers on CPU 1" if pin else ""))
    for workload, title in (("miss", "cache misses (unique names under a wildcard)"), ("hit", "cache hits (300 names repeated)")):
        p = table(f"{title}, peak (500 queries outstanding):", results[f"{workload}-peak"])
        s = table(f"{title}, steady ({RATE} queries/s offered):", results[f"{workload}-steady"])
        print(f"ratio dnsbridge/dnsdist, {workload}: peak queries/s {p['dnsbridge']['qps'] / p['dnsdist']['qps']:.2f}; "
              f"at {RATE} q/s, p99 latency {s['dnsbridge']['p99_ms'] / s['dnsdist']['p99_ms']:.2f} (below 1 is better)")

    def rss_kib(pid):
        # The server is the exec'd child of taskset / ip netns exec: same PID.
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    if entries:
        # Fresh instances, so nothing cached by the runs above counts.
        for p in servers_started.values():
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
        fresh = {
            "dnsbridge": start([dnsbridge, "run", "--config", os.path.join(work, "dnsbridge.yaml")],
                               os.path.join(work, "dnsbridge2.out"), cpu=1),
            "dnsdist": start(["dnsdist", "--supervised", "--disable-syslog", "-C", os.path.join(work, "dnsdist.conf")],
                             os.path.join(work, "dnsdist2.out"), cpu=1),
        }
        wait_dns(5300, "w.load.example")
        wait_dns(5303, "w.load.example")
        print(f"memory: resident size of a fresh server before and after {entries} unique answers "
              f"(cache sized for them)")
        for name, port in servers:
            pid = fresh[name].pid
            before = rss_kib(pid)
            r = subprocess.run(inside("dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", fill_names[name], "-n", "1",
                                      "-q", "500", "-t", "5"), capture_output=True, text=True)
            m = re.search(r"Queries completed:\s+(\d+)", r.stdout)
            answered = int(m.group(1)) if m else entries
            after = rss_kib(pid)
            print(f"  {name:<10} {before / 1024:8.1f} MiB -> {after / 1024:8.1f} MiB, {answered} answered "
                  f"(growth {(after - before) * 1024 / max(answered, 1):.0f} bytes per answer)")

    # The query log on / off: two fresh instances, one writing every query to a file on disk.
    logged = {}
    for name, port, extra in (("log off", 5306, ""), ("log on", 5307, f'query_log: {{ path: "{work}/queries.log" }}\n')):
        conf = os.path.join(work, f"{port}.yaml")
        with open(conf, "w") as f:
            f.write(f"""workers: 1
cache: {{ max_entries: {max(entries, 1000)} }}
status_socket: "{work}/{port}.sock"
endpoints:
  - {{ name: bench, direction: outbound, addresses: ["127.0.0.1:{port}"], allow: ["127.0.0.0/8"], system_pool: nsd }}
pools:
  - {{ name: nsd, targets: [ {{ address: "127.0.0.1:5301" }} ] }}
{extra}""")
        logged[name] = (port, start([dnsbridge, "run", "--config", conf], os.path.join(work, f"{port}.out"), cpu=1))
        wait_dns(port, "w.load.example")
    log_runs = {(w, n): [] for w in ("miss", "hit") for n in logged}
    answered = 0
    for _ in range(rounds):
        for name, (port, _) in logged.items():
            for workload, names in (("miss", miss_names), ("hit", hit_names)):
                r = dnsperf(port, names)
                log_runs[(workload, name)].append(r["qps"])
                if name == "log on":
                    answered += r["completed"]
    time.sleep(1)
    with open(os.path.join(work, "queries.log"), "rb") as f:
        lines = sum(1 for _ in f)
    print(f"query log (a fresh dnsbridge writing every query to a file on disk vs one without; {lines} lines "
          f"written for {answered} queries answered at peak; the rest were dropped and counted):")
    for workload in ("miss", "hit"):
        on, off = statistics.median(log_runs[(workload, "log on")]), statistics.median(log_runs[(workload, "log off")])
        print(f"  cache {workload:<4}  peak on {on:>9.0f}  off {off:>9.0f}  ratio on/off {on / off:.2f}")
    # Below saturation the writer keeps up: every query is logged.
    steady = dnsperf(logged["log on"][0], hit_names, rate=20000)
    time.sleep(1)
    with open(os.path.join(work, "queries.log"), "rb") as f:
        steady_lines = sum(1 for _ in f) - lines
    print(f"  at 20000 q/s offered: {steady_lines} lines for {steady['completed']} queries answered")
    for _, p in logged.values():
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=10)

    # Isolation on / off, across a veth so that every query meets the table.
    client = ns + "c"
    sh("ip", "netns", "add", client)
    try:
        sh("ip", "link", "add", "bench0", "netns", ns, "type", "veth", "peer", "name", "bench1", "netns", client)
        sh(*inside("ip", "addr", "add", "198.18.0.1/30", "dev", "bench0"))
        sh(*inside("ip", "link", "set", "bench0", "up"))
        sh("ip", "netns", "exec", client, "ip", "addr", "add", "198.18.0.2/30", "dev", "bench1")
        sh("ip", "netns", "exec", client, "ip", "link", "set", "bench1", "up")
        sh("ip", "netns", "exec", client, "ip", "link", "set", "lo", "up")
        iso_config = os.path.join(work, "isolated.yaml")
        with open(iso_config, "w") as f:
            f.write(f"""workers: 1
cache: {{ max_entries: {max(entries, 1000)} }}
endpoints:
  - {{ name: bench, direction: outbound, addresses: ["198.18.0.1:5300"], allow: ["198.18.0.0/30"], system_pool: nsd }}
pools:
  - {{ name: nsd, targets: [ {{ address: "127.0.0.1:5301" }} ] }}
isolation: {{ enabled: true, verify_interval: 0s }}
""")
        isolated = start([dnsbridge, "run", "--config", iso_config], os.path.join(work, "isolated.out"), cpu=1)
        for _ in range(50):
            r = sh("ip", "netns", "exec", client, "dig", "@198.18.0.1", "-p", "5300", "w.load.example", "+time=1",
                   "+tries=1", "+short", check=False)
            if r.stdout.strip():
                break
            time.sleep(0.2)

        def busy_jiffies():
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
            return sum(fields) - fields[3] - fields[4]  # all but idle and iowait

        def remote_dnsperf(names, rate=None):
            """Peak queries/s, or at a fixed rate the machine's CPU time per query (both cores,
            kernel included: the table's cost is paid in softirq context)."""
            taskset = ["taskset", "-c", "0"] if pin else []
            limit = ["-Q", str(rate)] if rate else []
            before = busy_jiffies()
            r = subprocess.run(["ip", "netns", "exec", client, *taskset, "dnsperf", "-s", "198.18.0.1", "-p", "5300",
                                "-d", names, "-l", str(seconds), "-c", "8", "-q", "500", "-t", "2", *limit],
                               capture_output=True, text=True)
            busy = busy_jiffies() - before
            if rate:
                completed = int(re.search(r"Queries completed:\s+(\d+)", r.stdout).group(1))
                return busy * 1e9 / os.sysconf("SC_CLK_TCK") / max(completed, 1) / 1000  # microseconds
            return float(re.search(r"Queries per second:\s+([\d.]+)", r.stdout).group(1))

        iso = {(w, state, kind): [] for w in ("miss", "hit") for state in ("on", "off") for kind in ("qps", "cpu")}
        for _ in range(rounds):
            for state in ("on", "off"):
                action = "apply" if state == "on" else "flush"
                sh(*inside(dnsbridge, "isolation", action, "--config", iso_config))
                for workload, names in (("miss", miss_names), ("hit", hit_names)):
                    iso[(workload, state, "qps")].append(remote_dnsperf(names))
                    iso[(workload, state, "cpu")].append(remote_dnsperf(names, rate=ISO_RATE))
        print(f"isolation (dnsbridge across a veth, table applied vs flushed): peak queries/s, and CPU time per "
              f"query of the whole machine at {ISO_RATE} q/s")
        for workload in ("miss", "hit"):
            med = {(st, k): statistics.median(iso[(workload, st, k)]) for st in ("on", "off") for k in ("qps", "cpu")}
            print(f"  cache {workload:<4}  peak on {med[('on', 'qps')]:>9.0f}  off {med[('off', 'qps')]:>9.0f}  "
                  f"ratio on/off {med[('on', 'qps')] / med[('off', 'qps')]:.2f};  CPU per query on "
                  f"{med[('on', 'cpu')]:.2f} us  off {med[('off', 'cpu')]:.2f} us  ratio off/on "
                  f"{med[('off', 'cpu')] / med[('on', 'cpu')]:.2f}")
        os.killpg(isolated.pid, signal.SIGTERM)
        isolated.wait(timeout=10)
    finally:
        sh("ip", "netns", "del", client, check=False)
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
