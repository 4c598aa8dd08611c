"""Integration tests of `dnsbridge run` between real networks: namespaces built per test class
(removed even on failure), nsd as targets, dig, dnspython and dnsperf as clients.

Run as root by `make integration-test` with DNSBRIDGE pointing at the release binary.
"""
import os
import re
import signal
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402

VPC_ENDPOINT = "198.18.2.1"
ONPREM_ENDPOINT = "198.18.1.1"
ONPREM_ENDPOINT_V6 = "2001:db8:1::1"


def counters(log):
    """The `counters:` lines the gateway prints when it stops, as a dict."""
    values = {}
    for line in log.splitlines():
        if "counters:" in line:
            for key, value in re.findall(r"(\w+)=(\d+)", line):
                values[key] = int(value)
    return values


class LabTestCase(unittest.TestCase):
    extra_rules = ""

    @classmethod
    def setUpClass(cls):
        cls.lab = netlab.Lab(cls.__name__[:3].lower())
        cls.addClassCleanup(cls.lab.close)
        cls.lab.build()
        cls.lab.start_targets()
        cls.lab.start_gateway(cls.extra_rules)


class ForwardingTests(LabTestCase):
    def test_vpc_client_resolves_onprem_name(self):
        self.assertEqual(self.lab.short("vclient", VPC_ENDPOINT, "www.corp.example"), ["198.18.10.1"])

    def test_onprem_client_resolves_cloud_name(self):
        self.assertEqual(self.lab.short("client", ONPREM_ENDPOINT, "app.cloud.internal"), ["198.18.20.1"])

    def test_system_rule_carves_out_subdomain(self):
        # public.corp.example goes to the VPC resolver's own zone, not on-premises.
        self.assertEqual(self.lab.short("vclient", VPC_ENDPOINT, "www.public.corp.example"), ["198.18.20.4"])
        # ... while the rest of corp.example still goes on-premises.
        self.assertEqual(self.lab.short("vclient", VPC_ENDPOINT, "db.corp.example"), ["198.18.10.2"])

    def test_rule_bound_to_other_endpoint_does_not_apply(self):
        # The corp rule is bound to from-vpc; on from-onprem the name goes to the system pool,
        # whose server is not authoritative for corp.example and refuses.
        r = self.lab.client("client", "query", ONPREM_ENDPOINT, "www.corp.example", "A")
        self.assertEqual(r["rcode"], "REFUSED")
        self.assertEqual(r["answers"], [])

    def test_source_outside_allow_is_refused(self):
        r = self.lab.client("vclient", "query", VPC_ENDPOINT, "www.corp.example", "A", "source=198.18.2.200")
        self.assertEqual(r["rcode"], "REFUSED")
        self.assertTrue(r["id_matches"])
        self.assertEqual(r["question"], "www.corp.example.")

    def test_question_case_and_id_kept(self):
        r = self.lab.client("vclient", "query", VPC_ENDPOINT, "WwW.CoRp.ExAmPlE", "A")
        self.assertEqual(r["question"], "WwW.CoRp.ExAmPlE.")
        self.assertTrue(r["id_matches"])
        self.assertEqual(r["answers"], ["198.18.10.1"])
        self.assertEqual(r["edns_payload"], 1232)

    def test_tcp_pipelining_fifty_queries(self):
        r = self.lab.client("vclient", "pipeline", VPC_ENDPOINT, 50, "load.corp.example")
        self.assertEqual(r["answers"], 50)
        self.assertEqual(r["noerror"], 50)
        self.assertTrue(r["matched"])

    def test_tcp_connection_limit_and_idle_timeout(self):
        # The lab allows 20 connections (10 per worker) and closes them after 1 s idle.
        r = self.lab.client("vclient", "tcp_limits", VPC_ENDPOINT, 40, "www.corp.example")
        self.assertGreaterEqual(r["answered"], 1)
        self.assertLessEqual(r["answered"], 20)
        self.assertEqual(r["answered"] + r["closed"], 40)
        self.assertTrue(r["idle_eof"])
        self.assertGreater(r["idle_closed_after"], 0.8)
        self.assertLess(r["idle_closed_after"], 3.0)

    def test_large_answer_truncated_over_udp_whole_over_tcp(self):
        udp = self.lab.client("vclient", "query", VPC_ENDPOINT, "big.corp.example", "TXT", "payload=4096")
        self.assertTrue(udp["tc"])
        self.assertLessEqual(udp["size"], 1232)
        tcp = self.lab.client("vclient", "query", VPC_ENDPOINT, "big.corp.example", "TXT", "tcp")
        self.assertFalse(tcp["tc"])
        self.assertEqual(len(tcp["answers"]), 3)
        self.assertGreater(tcp["size"], 1232)
        # Without EDNS a client accepts 512 octets.
        plain = self.lab.client("vclient", "query", VPC_ENDPOINT, "big.corp.example", "TXT", "noedns")
        self.assertTrue(plain["tc"])
        self.assertLessEqual(plain["size"], 512)

    def test_malformed_flood_then_valid_query(self):
        r = self.lab.client("vclient", "malformed", VPC_ENDPOINT, 2000, "www.corp.example")
        self.assertEqual(r["rcode"], "NOERROR")
        self.assertEqual(r["answers"], ["198.18.10.1"])
        self.assertGreater(r["junk_replies"], 0)  # FORMERR for junk with a readable header

    def test_ipv6_endpoint_and_ipv6_target(self):
        self.assertEqual(self.lab.short("client", ONPREM_ENDPOINT_V6, "app.cloud.internal"), ["198.18.20.1"])
        # v6.corp.example is routed to a pool whose only target is dc2 over IPv6.
        txt = self.lab.dig("vclient", VPC_ENDPOINT, "v6.corp.example", "TXT", "+short").strip()
        self.assertEqual(txt, '"served-by dc2"')

    def test_spoofed_answers_are_ignored(self):
        spoofer = self.lab.start("spoofer", "dc1", ["/usr/bin/python3", os.path.join(netlab.ROOT, "Tests/integration/spoofer.py"),
                                                     "198.18.1.66", "5"])
        time.sleep(0.3)
        try:
            r = self.lab.client("vclient", "query", VPC_ENDPOINT, "x.spoof.example", "A")
            self.assertEqual(r["answers"], ["198.18.66.1"])
        finally:
            spoofer.terminate()

    def test_source_addresses_used_upstream(self):
        spoofer = self.lab.start("whoami", "dc1", ["/usr/bin/python3", os.path.join(netlab.ROOT, "Tests/integration/spoofer.py"),
                                                    "198.18.1.66", "2"])
        time.sleep(0.3)
        try:
            # from-vpc has source_addresses [198.18.1.2]; from-onprem has none (kernel's choice).
            self.assertEqual(self.lab.dig("vclient", VPC_ENDPOINT, "whoami.spoof.example", "TXT", "+short").strip(), '"198.18.1.2"')
            self.assertEqual(self.lab.dig("client", ONPREM_ENDPOINT, "whoami.spoof.example", "TXT", "+short").strip(), '"198.18.1.1"')
        finally:
            spoofer.terminate()

    def test_identical_questions_in_flight_sent_once(self):
        # The spoofer holds each answer back 50 ms and serves one query only: two identical
        # questions sent together share one upstream exchange, and both get the answer with
        # their own ID.
        spoofer = self.lab.start("slow", "dc1", ["/usr/bin/python3", os.path.join(netlab.ROOT, "Tests/integration/spoofer.py"),
                                                 "198.18.1.66", "1"])
        time.sleep(0.3)
        try:
            r = self.lab.client("vclient", "twice", VPC_ENDPOINT, "same.spoof.example")
            self.assertEqual(r["answers"], [["198.18.66.1"], ["198.18.66.1"]])
            self.assertTrue(r["ids_match"])
        finally:
            spoofer.terminate()

    def test_status_and_live_explain(self):
        self.lab.short("vclient", VPC_ENDPOINT, "www.corp.example")
        time.sleep(1.2)  # workers publish their counts every second
        report = self.lab.status()
        pools = {p["name"]: p for p in report["pools"]}
        dc1 = pools["onprem-dc"]["targets"][0]
        self.assertEqual(dc1["address"], "198.18.1.53:53")
        self.assertEqual(dc1["state"], "up")
        self.assertGreater(dc1["outcomes"]["answered"], 0)
        self.assertIsNotNone(dc1["probe_rtt_ms"])
        self.assertGreater(report["counters"]["upstream_queries"], 0)
        text = netlab.run([netlab.DNSBRIDGE, "status", "--socket", self.lab.status_socket]).stdout
        self.assertRegex(text, r"198\.18\.1\.53:53\s+up")
        explained = netlab.run([netlab.DNSBRIDGE, "explain", "www.corp.example", "--endpoint", "from-vpc",
                                "--config", self.lab.config_path]).stdout
        self.assertRegex(explained, r"target:  198\.18\.1\.53:53 do53 weight 1 priority 0, up")

    def test_zz_sigterm_exits_zero_with_counts(self):
        self.assertEqual(self.lab.stop_gateway(), 0)
        c = counters(self.lab.gateway_output())
        self.assertGreaterEqual(c["refused"], 1)
        self.assertGreaterEqual(c["formerr"], 1)
        self.assertGreaterEqual(c["dropped"], 1)
        # The wrong-ID and wrong-question forgeries reached the process and were counted; the
        # wrong-port one never got past the connected socket.
        self.assertGreaterEqual(c["spoofed_or_late"], 2)
        self.assertGreaterEqual(c["tcp_retries"], 1)
        self.assertGreaterEqual(c["deduplicated"], 1)


class PolicyTests(LabTestCase):
    """Which target answers, per pool policy (each answer names the nsd that gave it)."""

    def servers(self, suffix, count):
        return self.lab.client("vclient", "servers", VPC_ENDPOINT, suffix, count)

    def test_round_robin_uses_both(self):
        seen = self.servers("rr.pick.corp.example", 40)
        self.assertEqual(sum(seen.values()), 40, seen)
        self.assertGreaterEqual(seen.get("served-by dc1", 0), 10, seen)
        self.assertGreaterEqual(seen.get("served-by dc2", 0), 10, seen)

    def test_random_follows_weights(self):
        seen = self.servers("random.pick.corp.example", 60)
        self.assertEqual(sum(seen.values()), 60, seen)
        self.assertGreater(seen.get("served-by dc2", 0), 40, seen)  # weight 9 of 10

    def test_fastest_and_least_outstanding_answer(self):
        for suffix in ("fast.pick.corp.example", "least.pick.corp.example"):
            seen = self.servers(suffix, 20)
            self.assertEqual(sum(v for k, v in seen.items() if k.startswith("served-by")), 20, seen)

    def test_z_lower_tier_only_when_upper_is_down(self):
        seen = self.servers("tier.pick.corp.example", 20)
        self.assertEqual(seen, {"served-by dc2": 20})  # priority 0 is preferred
        for name, p in self.lab.processes:
            if name == "nsd-dc2":
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=5)
        time.sleep(2.5)  # two failed probes at a 1 s interval take dc2 down
        seen = self.servers("tier.pick.corp.example", 20)
        self.assertEqual(seen, {"served-by dc1": 20})


class LifecycleTests(LabTestCase):
    """Readiness, failover, reload under load and shutdown, on a lab of its own."""

    @classmethod
    def setUpClass(cls):
        # Listen for sd_notify like systemd does: a datagram socket named by NOTIFY_SOCKET.
        cls.notify_dir = tempfile.mkdtemp(prefix="dnsbridge-notify-")
        cls.notify_path = os.path.join(cls.notify_dir, "notify")
        cls.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        cls.notify.bind(cls.notify_path)
        cls.notify.settimeout(5)
        cls.addClassCleanup(cls.notify.close)
        cls.lab = netlab.Lab(cls.__name__[:3].lower())
        cls.addClassCleanup(cls.lab.close)
        cls.lab.build()
        cls.lab.start_targets()
        cls.lab.start_gateway(env={"NOTIFY_SOCKET": cls.notify_path})

    def test_a_ready_notification(self):
        message = self.notify.recv(4096).decode()
        self.assertIn("READY=1", message)

    def test_b_failover_to_second_target(self):
        # Stop dc1, the first target of onprem-dc: the try times out and dc2 answers.
        for name, p in self.lab.processes:
            if name == "nsd-dc1":
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=5)
        start = time.monotonic()
        r = self.lab.client("vclient", "query", VPC_ENDPOINT, "server.corp.example", "TXT")
        self.assertEqual(r["rcode"], "NOERROR")
        self.assertEqual(r["answers"], ['"served-by dc2"'])
        self.assertLess(time.monotonic() - start, 2.0)
        self.lab.nsd("dc1", ["198.18.1.53"], {"corp.example": netlab.CORP_ZONE.format(
            server="dc1", big1="a", big2="b", big3="c", big4="d", big5="e"), "extra.example": netlab.EXTRA_ZONE})

    def test_reload_under_load_loses_nothing_and_applies_rule(self):
        lab = self.lab
        before = lab.client("vclient", "query", VPC_ENDPOINT, "www.extra.example", "A")
        self.assertEqual(before["rcode"], "REFUSED")  # no rule yet: the VPC resolver refuses it

        data = os.path.join(lab.dir, "names.txt")
        with open(data, "w") as f:
            for i in range(4000):
                f.write(f"n{i}.load.corp.example A\n")
        out = os.path.join(lab.dir, "dnsperf.out")
        perf = lab.start("dnsperf", "vclient", ["dnsperf", "-s", VPC_ENDPOINT, "-d", data, "-l", "6", "-Q", "500",
                                                 "-t", "2", "-S", "1"], log=out)
        time.sleep(2)
        lab.write_config("  - { name: extra, domain: extra.example, action: forward, pool: onprem-dc, endpoints: [from-vpc] }\n")
        os.kill(lab.gateway.pid, signal.SIGHUP)
        perf.wait(timeout=30)
        with open(out) as f:
            report = f.read()
        sent = int(re.search(r"Queries sent:\s+(\d+)", report).group(1))
        lost = int(re.search(r"Queries lost:\s+(\d+)", report).group(1))
        self.assertGreater(sent, 2000, report)
        self.assertEqual(lost, 0, report)
        self.assertRegex(report, r"NOERROR \d+ \(100\.00%\)")
        self.assertIn("reloaded", lab.gateway_output())

        after = lab.client("vclient", "query", VPC_ENDPOINT, "www.extra.example", "A")
        self.assertEqual(after["answers"], ["198.18.10.77"])

    def test_zz_bad_reload_keeps_old_config_then_sigterm_exits_zero(self):
        lab = self.lab
        with open(os.path.join(lab.dir, "dnsbridge.yaml"), "a") as f:
            f.write("bogus_key: 1\n")
        os.kill(lab.gateway.pid, signal.SIGHUP)
        time.sleep(0.5)
        self.assertEqual(lab.short("vclient", VPC_ENDPOINT, "www.corp.example"), ["198.18.10.1"])
        log = lab.gateway_output()
        self.assertIn("reload rejected", log)
        self.assertRegex(log, r"dnsbridge\.yaml:\d+: unknown key 'bogus_key'")
        self.assertEqual(lab.stop_gateway(), 0)
        c = counters(lab.gateway_output())
        self.assertGreater(c["upstream_queries"], 0)
        self.assertEqual(c["servfail"], 0)


if __name__ == "__main__":
    unittest.main()
