"""A throwaway on-premises / gateway / VPC topology in network namespaces, for the demo and
the integration tests. Everything it makes it removes (`Lab.close`, also run at exit), and it
only ever sends traffic to addresses inside the namespaces it created (198.18.0.0/15 and
2001:db8::/32).

  onprem network 198.18.1.0/24, 2001:db8:1::/64      vpc network 198.18.2.0/24, 2001:db8:2::/64
    dc1     198.18.1.53  nsd: corp.example            vpcdns  198.18.2.2  nsd: cloud.internal,
    dc2     198.18.1.54  nsd: corp.example                                     public.corp.example
            2001:db8:1::54                            vclient 198.18.2.10 (allowed),
    client  198.18.1.10, 2001:db8:1::10                       198.18.2.200 (outside allow)
    gw      198.18.1.1, 2001:db8:1::1   <-- dnsbridge -->     gw 198.18.2.1, 2001:db8:2::1
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DNSBRIDGE = os.environ.get("DNSBRIDGE", os.path.join(ROOT, ".build/release/dnsbridge"))

CORP_ZONE = """$ORIGIN corp.example.
$TTL 300
@       IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@       IN NS  ns1
ns1     IN A   198.18.1.53
www     IN A   198.18.10.1
db      IN A   198.18.10.2
public  IN A   198.18.10.3
www.public IN A 198.18.10.4
server  IN TXT "served-by {server}"
v6      IN TXT "served-by {server}"
big     IN TXT "{big1}" "{big2}"
big     IN TXT "{big3}" "{big4}"
big     IN TXT "{big5}"
*.load  IN A   198.18.10.9
*.pick  IN TXT "served-by {server}"
short 1 IN A   198.18.10.5
"""

PUBLIC_ZONE = """$ORIGIN public.corp.example.
$TTL 300
@       IN SOA ns hostmaster 1 7200 3600 1209600 300
@       IN NS  ns
ns      IN A   198.18.2.2
www     IN A   198.18.20.4
"""

EXTRA_ZONE = """$ORIGIN extra.example.
$TTL 300
@       IN SOA ns hostmaster 1 7200 3600 1209600 300
@       IN NS  ns
ns      IN A   198.18.1.53
www     IN A   198.18.10.77
"""

CLOUD_ZONE = """$ORIGIN cloud.internal.
$TTL 300
@       IN SOA ns hostmaster 1 7200 3600 1209600 300
@       IN NS  ns
ns      IN A   198.18.2.2
app     IN A   198.18.20.1
*.load  IN A   198.18.20.9
"""

GATEWAY_CONFIG = """workers: 2
{cache}
tcp: {{ idle_timeout: 1s, max_connections: 20 }}
status_socket: "{status_socket}"
endpoints:
  - name: from-onprem
    direction: inbound
    addresses: ["198.18.1.1:53", "[2001:db8:1::1]:53"]
    allow: ["198.18.1.0/24", "2001:db8:1::/64"]
    system_pool: vpc-resolver
  - name: from-vpc
    direction: outbound
    addresses: ["198.18.2.1:53"]
    source_addresses: ["198.18.1.2"]
    allow: ["198.18.2.0/25"]
    system_pool: vpc-resolver
pools:
  - name: onprem-dc
    targets:
      - address: "198.18.1.53:53"
      - address: "[2001:db8:1::54]:53"
  - name: dc2-v6
    targets: [ {{ address: "[2001:db8:1::54]:53" }} ]
  - name: spoofer
    targets: [ {{ address: "198.18.1.66:53" }} ]
  - name: vpc-resolver
    targets: [ {{ address: "198.18.2.2:53" }} ]
  - name: pick-rr
    policy: round-robin
    targets: [ {{ address: "198.18.1.53:53" }}, {{ address: "198.18.1.54:53" }} ]
  - name: pick-random
    policy: random
    targets: [ {{ address: "198.18.1.53:53", weight: 1 }}, {{ address: "198.18.1.54:53", weight: 9 }} ]
  - name: pick-tier
    targets: [ {{ address: "198.18.1.53:53", priority: 1 }}, {{ address: "198.18.1.54:53", priority: 0 }} ]
  - name: pick-fast
    policy: fastest
    targets: [ {{ address: "198.18.1.53:53" }}, {{ address: "198.18.1.54:53" }} ]
  - name: pick-least
    policy: least-outstanding
    targets: [ {{ address: "198.18.1.53:53" }}, {{ address: "198.18.1.54:53" }} ]
rules:
  - {{ name: rr, domain: rr.pick.corp.example, action: forward, pool: pick-rr }}
  - {{ name: random, domain: random.pick.corp.example, action: forward, pool: pick-random }}
  - {{ name: tier, domain: tier.pick.corp.example, action: forward, pool: pick-tier }}
  - {{ name: fast, domain: fast.pick.corp.example, action: forward, pool: pick-fast }}
  - {{ name: least, domain: least.pick.corp.example, action: forward, pool: pick-least }}
  - {{ name: via-v6, domain: v6.corp.example, action: forward, pool: dc2-v6, endpoints: [from-vpc] }}
  - {{ name: spoof, domain: spoof.example, action: forward, pool: spoofer }}
  - {{ name: corp, domain: corp.example, action: forward, pool: onprem-dc, endpoints: [from-vpc] }}
  - {{ name: corp-public, domain: public.corp.example, action: system, endpoints: [from-vpc] }}
{extra_rules}"""


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


class Lab:
    def __init__(self, tag=None):
        self.prefix = f"dnsb{os.getpid() % 100000}{tag or ''}-"
        self.namespaces = []
        self.processes = []  # (name, Popen)
        self.logs = []
        self.dir = tempfile.mkdtemp(prefix="dnsbridge-lab-")
        self.gateway = None
        self.gateway_log = None
        atexit.register(self.close)

    # -- topology --------------------------------------------------------------------------

    def ns(self, name):
        return self.prefix + name

    def add_ns(self, name):
        full = self.ns(name)
        run(["ip", "netns", "add", full])
        self.namespaces.append(full)
        self.sh(name, "ip link set lo up")
        return full

    def sh(self, name, command, check=True):
        return run(["ip", "netns", "exec", self.ns(name)] + command.split(), check=check)

    def connect(self, host, switch, index, v4, v6=None):
        """A veth from `host` to the bridge in `switch`, with the given addresses."""
        a, b = f"h{index}", f"s{index}"
        run(["ip", "link", "add", a, "netns", self.ns(host), "type", "veth", "peer", "name", b,
             "netns", self.ns(switch)])
        self.sh(switch, f"ip link set {b} master br0")
        self.sh(switch, f"ip link set {b} up")
        for addr in v4:
            self.sh(host, f"ip addr add {addr} dev {a}")
        for addr in v6 or []:
            self.sh(host, f"ip -6 addr add {addr} dev {a} nodad")
        self.sh(host, f"ip link set {a} up")

    def build(self):
        for sw in ("sw1", "sw2"):
            self.add_ns(sw)
            self.sh(sw, "ip link add br0 type bridge")
            self.sh(sw, "ip link set br0 up")
        for host in ("gw", "dc1", "dc2", "client", "vpcdns", "vclient"):
            self.add_ns(host)
        self.connect("gw", "sw1", 1, ["198.18.1.1/24", "198.18.1.2/24"], ["2001:db8:1::1/64"])
        self.connect("gw", "sw2", 2, ["198.18.2.1/24"], ["2001:db8:2::1/64"])
        self.connect("dc1", "sw1", 3, ["198.18.1.53/24", "198.18.1.66/24"])
        self.connect("dc2", "sw1", 4, ["198.18.1.54/24"], ["2001:db8:1::54/64"])
        self.connect("client", "sw1", 5, ["198.18.1.10/24"], ["2001:db8:1::10/64"])
        self.connect("vpcdns", "sw2", 6, ["198.18.2.2/24"])
        self.connect("vclient", "sw2", 7, ["198.18.2.10/24", "198.18.2.200/24"])
        return self

    # -- servers ---------------------------------------------------------------------------

    def start(self, name, host, argv, log=None):
        out = open(log, "w") if log else subprocess.DEVNULL
        if log:
            self.logs.append(out)
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(host)] + argv, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.processes.append((name, p))
        return p

    def nsd(self, host, address, zones):
        d = os.path.join(self.dir, host)
        os.makedirs(d, exist_ok=True)
        zone_lines = []
        for origin, text in zones.items():
            path = os.path.join(d, origin + ".zone")
            with open(path, "w") as f:
                f.write(text)
            zone_lines.append(f"zone:\n  name: {origin}\n  zonefile: {path}\n")
        conf = os.path.join(d, "nsd.conf")
        with open(conf, "w") as f:
            addresses = "".join(f"  ip-address: {a}\n" for a in address)
            f.write(f"""server:
{addresses}  port: 53
  username: ""
  chroot: ""
  database: ""
  zonesdir: "{d}"
  zonelistfile: "{d}/zone.list"
  xfrdfile: "{d}/xfrd.state"
  xfrdir: "{d}"
  pidfile: "{d}/nsd.pid"
  logfile: "{d}/nsd.log"
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
  server-count: 1
  verbosity: 1
""" + "".join(zone_lines))
        run(["nsd-checkconf", conf])
        p = self.start(f"nsd-{host}", host, ["nsd", "-d", "-c", conf])
        self.wait_for_dns(host, address[0], "corp.example" if "corp.example" in zones else list(zones)[0])
        return p

    def wait_for_dns(self, host, address, name, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.sh(host, f"dig @{address} {name} SOA +time=1 +tries=1 +short", check=False)
            if r.returncode == 0 and r.stdout.strip():
                return
            time.sleep(0.2)
        raise RuntimeError(f"no DNS answer from {address} in {host}")

    def start_targets(self):
        big = [c * 250 for c in "abcde"]
        zone = lambda server: CORP_ZONE.format(server=server, big1=big[0], big2=big[1], big3=big[2], big4=big[3],
                                               big5=big[4])
        self.nsd("dc1", ["198.18.1.53"], {"corp.example": zone("dc1"), "extra.example": EXTRA_ZONE})
        self.nsd("dc2", ["198.18.1.54", "2001:db8:1::54"], {"corp.example": zone("dc2")})
        self.nsd("vpcdns", ["198.18.2.2"], {"cloud.internal": CLOUD_ZONE, "public.corp.example": PUBLIC_ZONE})
        return self

    @property
    def status_socket(self):
        return os.path.join(self.dir, "status.sock")

    @property
    def config_path(self):
        return os.path.join(self.dir, "dnsbridge.yaml")

    def status(self):
        """The running gateway's status report, through `dnsbridge status --json`."""
        r = run([DNSBRIDGE, "status", "--socket", self.status_socket, "--json"])
        return json.loads(r.stdout)

    def write_config(self, extra_rules="", cache=None):
        if cache is not None:
            self.cache = cache
        path = os.path.join(self.dir, "dnsbridge.yaml")
        with open(path, "w") as f:
            f.write(GATEWAY_CONFIG.format(extra_rules=extra_rules, status_socket=self.status_socket,
                                          cache=getattr(self, "cache", "")))
        return path

    def start_gateway(self, extra_rules="", env=None, cache=None):
        conf = self.write_config(extra_rules, cache)
        self.gateway_log = os.path.join(self.dir, "dnsbridge.log")
        argv = [DNSBRIDGE, "run", "--config", conf]
        if env:
            argv = ["env"] + [f"{k}={v}" for k, v in env.items()] + argv
        self.gateway = self.start("dnsbridge", "gw", argv, log=self.gateway_log)
        self.wait_for_dns("vclient", "198.18.2.1", "corp.example")
        return self.gateway

    def stop_gateway(self, timeout=10):
        """SIGTERM, then wait; returns the exit status."""
        p, self.gateway = self.gateway, None
        os.kill(p.pid, signal.SIGTERM)
        return p.wait(timeout=timeout)

    def gateway_output(self):
        with open(self.gateway_log) as f:
            return f.read()

    # -- clients ---------------------------------------------------------------------------

    def dig(self, host, server, name, rtype="A", *options):
        r = self.sh(host, " ".join(["dig", f"@{server}", name, rtype, "+time=2", "+tries=1"] + list(options)), check=False)
        return r.stdout

    def short(self, host, server, name, rtype="A", *options):
        return self.dig(host, server, name, rtype, "+short", *options).split()

    def client(self, host, *args):
        """Runs Tests/integration/client.py inside a namespace; returns its JSON result."""
        script = os.path.join(ROOT, "Tests/integration/client.py")
        r = self.sh(host, " ".join(["/usr/bin/python3", script] + [str(a) for a in args]))
        return json.loads(r.stdout)

    # -- teardown --------------------------------------------------------------------------

    def close(self):
        for name, p in reversed(self.processes):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, p in reversed(self.processes):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.processes = []
        for f in self.logs:
            f.close()
        self.logs = []
        for ns in reversed(self.namespaces):
            run(["ip", "netns", "del", ns], check=False)
        self.namespaces = []
        shutil.rmtree(self.dir, ignore_errors=True)
