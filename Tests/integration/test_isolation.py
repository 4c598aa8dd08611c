"""Isolation in the kernel: `dnsbridge isolation plan|apply|flush` against real nftables, checked
with `nft` (which nobody here wrote) and with real traffic between namespaces.

Run as root by `make integration-test` with DNSBRIDGE pointing at the release binary. Every
table is programmed inside the test's own namespaces, never on the host.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402

DNSBRIDGE = netlab.DNSBRIDGE
VPC_ENDPOINT = "198.18.2.1"
ONPREM_ENDPOINT = "198.18.1.1"

# The admin group is stateful, so the table tracks connections and keeps DNS out of the
# conntrack table with notrack rules: every kind of object the compiler makes is exercised.
# h1 is the gateway's leg on the on-premises network. Entry 100 denies the client's UDP queries
# although entry 200 allows its whole network: the lower number wins.
ISOLATION = """isolation:
  enabled: true
  security_groups:
    - name: admin
      ingress:
        - { protocol: tcp, port: 22, cidr: "198.18.1.0/24" }
  nacls:
    - name: onprem-edge
      interface: h1
      ingress:
        - { number: 200, action: allow, protocol: any, cidr: "198.18.1.0/24" }
        - { number: 100, action: deny, protocol: udp, port: 53, cidr: "198.18.1.10/32" }
        - { number: 300, action: allow, protocol: any, cidr: "2001:db8:1::/64" }
      egress:
        - { number: 100, action: allow, protocol: any, cidr: "198.18.1.0/24" }
        - { number: 200, action: allow, protocol: any, cidr: "2001:db8:1::/64" }
"""


def run(cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)


def without_handles(value):
    if isinstance(value, dict):
        return {k: without_handles(v) for k, v in value.items() if k != "handle"}
    if isinstance(value, list):
        return [without_handles(v) for v in value]
    return value


def listed(netns):
    """The live table as nft reads it back from the kernel, JSON without rule handles."""
    r = run(["ip", "netns", "exec", netns, "nft", "-j", "list", "table", "inet", "dnsbridge"])
    return without_handles(json.loads(r.stdout))


class PlanTests(unittest.TestCase):
    """The plan is valid nft, and apply through netlink programs exactly what nft makes of it."""

    @classmethod
    def setUpClass(cls):
        cls.lab = netlab.Lab("pln")
        cls.addClassCleanup(cls.lab.close)
        cls.config = cls.lab.write_config(ISOLATION)
        r = run([DNSBRIDGE, "isolation", "plan", "--config", cls.config])
        cls.plan = r.stdout
        cls.plan_file = os.path.join(cls.lab.dir, "plan.nft")
        with open(cls.plan_file, "w") as f:
            f.write(cls.plan)

    def test_plan_passes_nft_syntax_check(self):
        self.assertIn("table inet dnsbridge {", self.plan)
        r = run(["nft", "-c", "-f", self.plan_file], check=False)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_apply_programs_what_nft_makes_of_the_plan(self):
        by_nft, by_apply = self.lab.add_ns("bynft"), self.lab.add_ns("byapply")
        run(["ip", "netns", "exec", by_nft, "nft", "-f", self.plan_file])
        r = run(["ip", "netns", "exec", by_apply, DNSBRIDGE, "isolation", "apply", "--config", self.config])
        self.assertIn("applied table inet dnsbridge", r.stdout)
        expected, actual = listed(by_nft), listed(by_apply)
        self.assertGreater(len(actual["nftables"]), 40)
        self.assertEqual(actual, expected)
        # Applying again replaces the table; it does not append to it.
        run(["ip", "netns", "exec", by_apply, DNSBRIDGE, "isolation", "apply", "--config", self.config])
        self.assertEqual(listed(by_apply), expected)

    def test_verify_agrees_with_nft_and_finds_drift(self):
        netns = self.lab.add_ns("verify")
        verify = ["ip", "netns", "exec", netns, DNSBRIDGE, "isolation", "verify", "--config", self.config]
        r = run(verify, check=False)
        self.assertEqual((r.returncode, r.stdout.strip()), (1, "drift: table inet dnsbridge is missing"))
        # What nft makes of the plan is what verify expects, as is what apply programs.
        run(["ip", "netns", "exec", netns, "nft", "-f", self.plan_file])
        r = run(verify, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("no drift", r.stdout)
        run(["ip", "netns", "exec", netns, DNSBRIDGE, "isolation", "apply", "--config", self.config])
        self.assertEqual(run(verify, check=False).returncode, 0)
        # Changes made by hand with nft: a rule deleted, a rule added, an element added, a chain.
        handle = next(i["rule"]["handle"] for i in json.loads(run(
            ["ip", "netns", "exec", netns, "nft", "-j", "-a", "list", "chain", "inet", "dnsbridge", "input"]).stdout)["nftables"]
            if "rule" in i and i["rule"].get("comment") == "endpoint from-vpc 198.18.2.1:53 tcp")
        nft = ["ip", "netns", "exec", netns, "nft"]
        run(nft + ["delete", "rule", "inet", "dnsbridge", "input", "handle", str(handle)])
        run(nft + ["add", "rule", "inet", "dnsbridge", "endpoint-from-vpc", "tcp", "dport", "22", "accept"])
        run(nft + ["add", "element", "inet", "dnsbridge", "endpoint-from-vpc-allow-v4", "{ 203.0.113.0/24 }"])
        run(nft + ["add", "chain", "inet", "dnsbridge", "stray"])
        r = run(verify, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(sorted(r.stdout.splitlines()), sorted([
            'drift: missing rule in chain input: "endpoint from-vpc 198.18.2.1:53 tcp"',
            'drift: extra rule in chain endpoint-from-vpc: ""',
            "drift: set endpoint-from-vpc-allow-v4 changed: 0 planned elements missing, 2 extra",
            "drift: extra chain stray",
        ]))
        self.assertIn("differs from the plan in 4 places", r.stderr)

    def test_a_rejected_batch_names_its_object_and_leaves_the_table(self):
        netns = self.lab.add_ns("rejected")
        run(["ip", "netns", "exec", netns, DNSBRIDGE, "isolation", "apply", "--config", self.config])
        before = listed(netns)
        # nf_tables takes set and chain names of at most 255 octets; this endpoint's are longer.
        long_name = "e" * 260
        bad = os.path.join(self.lab.dir, "long-name.yaml")
        with open(self.config) as f, open(bad, "w") as out:
            out.write(f.read().replace("name: from-vpc", f"name: {long_name}").replace(
                "endpoints: [from-vpc]", f"endpoints: [{long_name}]"))
        r = run(["ip", "netns", "exec", netns, DNSBRIDGE, "isolation", "apply", "--config", bad], check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"set endpoint-{long_name}-allow-v4: Numerical result out of range", r.stderr)
        self.assertIn("the previous table stays in force", r.stderr)
        self.assertEqual(listed(netns), before)

    def test_apply_without_cap_net_admin_is_refused_in_words(self):
        netns = self.lab.add_ns("noadmin")
        os.chmod(self.lab.dir, 0o755)  # the configuration must be readable to the unprivileged user
        r = run(["ip", "netns", "exec", netns, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                 DNSBRIDGE, "isolation", "apply", "--config", self.config], check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("needs CAP_NET_ADMIN", r.stderr)
        self.assertNotIn("dnsbridge", run(["ip", "netns", "exec", netns, "nft", "list", "tables"]).stdout)

    def test_flush_removes_only_its_table(self):
        netns = self.lab.add_ns("flush")
        run(["ip", "netns", "exec", netns, "nft", "add", "table", "inet", "bystander"])
        run(["ip", "netns", "exec", netns, "nft", "add", "chain", "inet", "bystander", "input",
             "{ type filter hook input priority 0; policy accept; }"])
        run(["ip", "netns", "exec", netns, DNSBRIDGE, "isolation", "apply", "--config", self.config])
        self.assertIn("table inet dnsbridge", run(["ip", "netns", "exec", netns, "nft", "list", "tables"]).stdout)
        r = run(["ip", "netns", "exec", netns, DNSBRIDGE, "isolation", "flush"])
        self.assertEqual(r.returncode, 0)
        tables = run(["ip", "netns", "exec", netns, "nft", "list", "tables"]).stdout.split("\n")
        self.assertEqual([t for t in tables if t], ["table inet bystander"])
        self.assertIn("chain input", run(["ip", "netns", "exec", netns, "nft", "list", "table", "inet", "bystander"]).stdout)
        # Flushing when there is no table is not an error.
        self.assertEqual(run(["ip", "netns", "exec", netns, DNSBRIDGE, "isolation", "flush"]).returncode, 0)


class TrafficTests(unittest.TestCase):
    """The demo topology with isolation applied in the gateway's namespace."""

    @classmethod
    def setUpClass(cls):
        cls.lab = netlab.Lab("iso")
        cls.addClassCleanup(cls.lab.close)
        cls.lab.build()
        cls.lab.start_targets()
        # A DNS server on an on-premises address that is no pool's target, reachable before.
        cls.lab.start("stray", "client", ["/usr/bin/python3", os.path.join(netlab.ROOT, "Tests/integration/servfail.py"),
                                          "198.18.1.10", "120"])
        for _ in range(20):
            cls.stray_before = cls.lab.dig("gw", "198.18.1.10", "stray.example")
            if "status:" in cls.stray_before:
                break
            time.sleep(0.25)
        run(["ip", "netns", "exec", cls.lab.ns("gw"), "nft", "add", "table", "inet", "bystander"])
        # `run` applies the table at start. A control listener without tokens serves GET calls.
        cls.lab.start_gateway(ISOLATION + 'control: { listen: "198.18.2.1:8053" }\n')

    def counter(self, comment):
        """Packets counted by the rules with this comment (one per address family for a set)."""
        table = listed(self.lab.ns("gw"))
        counts = [next(e["counter"]["packets"] for e in item["rule"]["expr"] if "counter" in e)
                  for item in table["nftables"] if "rule" in item and item["rule"].get("comment") == comment]
        if not counts:
            raise AssertionError(f"no rule with comment {comment!r}")
        return sum(counts)

    def test_allowed_client_is_answered(self):
        self.assertEqual(self.lab.short("vclient", VPC_ENDPOINT, "www.corp.example"), ["198.18.10.1"])
        self.assertEqual(self.lab.short("vclient", VPC_ENDPOINT, "www.corp.example", "A", "+tcp"), ["198.18.10.1"])

    def test_client_outside_allow_gets_no_packet_back(self):
        before = self.counter("endpoint from-vpc: source outside allow")
        r = self.lab.client("vclient", "query", VPC_ENDPOINT, "www.corp.example", "A", "source=198.18.2.200")
        self.assertEqual(r["rcode"], "TIMEOUT", r)
        self.assertGreater(self.counter("endpoint from-vpc: source outside allow"), before)

    def test_lower_numbered_nacl_deny_beats_higher_allow(self):
        before = self.counter("nacl onprem-edge ingress 100 deny")
        out = self.lab.dig("client", ONPREM_ENDPOINT, "app.cloud.internal")
        self.assertIn("timed out", out)
        self.assertNotIn("status:", out)
        self.assertGreater(self.counter("nacl onprem-edge ingress 100 deny"), before)
        # The same client over TCP falls to entry 200, an allow.
        self.assertEqual(self.lab.short("client", ONPREM_ENDPOINT, "app.cloud.internal", "A", "+tcp"),
                         ["198.18.20.1"])
        # Another host of the network is allowed over UDP by entry 200.
        self.assertEqual(self.lab.short("dc2", ONPREM_ENDPOINT, "app.cloud.internal"), ["198.18.20.1"])

    def test_egress_to_a_non_target_address_is_blocked(self):
        self.assertIn("status: SERVFAIL", self.stray_before, "the stray server answered before isolation")
        self.assertNotIn("status:", self.lab.dig("gw", "198.18.1.10", "stray.example"))
        self.assertGreater(self.counter("DNS egress only to pool targets: udp 53"), 0)
        # Targets are still reached: forwarding works.
        self.assertEqual(self.lab.short("vclient", VPC_ENDPOINT, "db.corp.example"), ["198.18.10.2"])

    def test_run_applied_the_table_at_start(self):
        self.assertIn("isolation applied: table inet dnsbridge", self.lab.gateway_output())
        self.assertGreaterEqual(self.counter("endpoint from-vpc: allow"), 1)  # the gateway's own start-up query

    def test_ipv6_through_the_table(self):
        # Neighbour discovery passes (nothing over IPv6 would work otherwise), the endpoint's IPv6
        # allow set admits the client, and the IPv6 target is reached.
        self.assertEqual(self.lab.short("client", "2001:db8:1::1", "app.cloud.internal"), ["198.18.20.1"])
        self.assertGreater(self.counter("endpoint from-onprem: allow"), 0)
        self.assertIn("served-by dc2", " ".join(self.lab.short("vclient", VPC_ENDPOINT, "v6.corp.example", "TXT")))

    def test_metrics_carry_the_kernel_counters_of_each_rule(self):
        self.lab.client("vclient", "query", VPC_ENDPOINT, "www.corp.example", "A", "source=198.18.2.200")
        metrics = run(["ip", "netns", "exec", self.lab.ns("vclient"), "curl", "-s", "-m", "10",
                       "http://198.18.2.1:8053/metrics"]).stdout
        comment = "endpoint from-vpc: source outside allow"
        line = next(l for l in metrics.splitlines()
                    if l.startswith(f'dnsbridge_isolation_packets_total{{chain="endpoint-from-vpc",rule="{comment}"}} '))
        self.assertEqual(int(float(line.split()[-1])), self.counter(comment))
        self.assertGreater(self.counter(comment), 0)

    def test_other_tables_are_untouched(self):
        tables = run(["ip", "netns", "exec", self.lab.ns("gw"), "nft", "list", "tables"]).stdout
        self.assertIn("table inet bystander", tables)


class RunLifecycleTests(unittest.TestCase):
    """The table follows the configuration through reloads and outlives the process unless
    `remove_on_exit` is set."""

    @classmethod
    def setUpClass(cls):
        cls.lab = netlab.Lab("isr")
        cls.addClassCleanup(cls.lab.close)
        cls.lab.build()
        cls.lab.start_targets()

    def tables(self):
        return run(["ip", "netns", "exec", self.lab.ns("gw"), "nft", "list", "tables"]).stdout

    def reload(self, extra, expect):
        self.lab.write_config(extra)
        os.kill(self.lab.gateway.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.lab.gateway_output().count(expect) < self.seen.get(expect, 0) + 1:
            time.sleep(0.1)
        self.seen[expect] = self.lab.gateway_output().count(expect)
        self.assertGreater(self.seen[expect], 0, self.lab.gateway_output())

    def test_drift_is_repaired(self):
        self.lab.start_gateway(ISOLATION.replace("enabled: true", "enabled: true\n  verify_interval: 1s"))
        try:
            nft = ["ip", "netns", "exec", self.lab.ns("gw"), "nft"]
            run(nft + ["flush", "chain", "inet", "dnsbridge", "endpoint-from-vpc"])
            deadline = time.monotonic() + 10
            while "isolation drift repaired" not in self.lab.gateway_output() and time.monotonic() < deadline:
                time.sleep(0.2)
            log = self.lab.gateway_output()
            self.assertIn('isolation drift: missing rule in chain endpoint-from-vpc: "endpoint from-vpc: source outside allow"', log)
            self.assertIn("isolation drift repaired", log)
            r = run(["ip", "netns", "exec", self.lab.ns("gw"), DNSBRIDGE, "isolation", "verify", "--config",
                     self.lab.config_path], check=False)
            self.assertEqual(r.returncode, 0, r.stdout)
        finally:
            self.assertEqual(self.lab.stop_gateway(), 0)
            run(["ip", "netns", "exec", self.lab.ns("gw"), DNSBRIDGE, "isolation", "flush"])

    def test_table_follows_reloads_and_exit(self):
        self.seen = {}
        self.lab.start_gateway(ISOLATION)
        self.assertIn("table inet dnsbridge", self.tables())
        # Protection outlives the process by default.
        self.assertEqual(self.lab.stop_gateway(), 0)
        self.assertIn("table inet dnsbridge", self.tables())

        self.lab.start_gateway(ISOLATION.replace("enabled: true", "enabled: true\n  remove_on_exit: true"))
        self.reload(ISOLATION.replace("enabled: true", "enabled: false"), "isolation disabled: table inet dnsbridge removed")
        self.assertNotIn("dnsbridge", self.tables())
        self.reload(ISOLATION.replace("enabled: true", "enabled: true\n  remove_on_exit: true"), "reloaded")
        self.assertIn("table inet dnsbridge", self.tables())
        self.assertEqual(self.lab.short("vclient", VPC_ENDPOINT, "www.corp.example"), ["198.18.10.1"])
        self.assertEqual(self.lab.stop_gateway(), 0)
        self.assertIn("isolation removed on exit", self.lab.gateway_output())
        self.assertNotIn("dnsbridge", self.tables())


if __name__ == "__main__":
    unittest.main()
