"""The control listener: Prometheus metrics and the JSON API, through curl, with bearer tokens,
roles and the audit log, on the demo topology in namespaces.

Run as root by `make integration-test` with DNSBRIDGE pointing at the release binary.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402

CONTROL = "198.18.2.1:8053"
ADMIN = "admin-token-0123456789abcdef"
READER = "read-token-0123456789abcdef"


def control_section(lab, tokens_mode=0o600):
    tokens = os.path.join(lab.dir, "tokens")
    with open(tokens, "w") as f:
        f.write(f"# name role token\nops admin {ADMIN}\nprometheus read {READER}\n")
    os.chmod(tokens, tokens_mode)
    audit = os.path.join(lab.dir, "audit.log")
    return f'control: {{ listen: "{CONTROL}", tokens_file: "{tokens}", audit_log: "{audit}" }}\n', audit


def sample(text, name, missing_ok=False, **labels):
    """The value of one sample in Prometheus text; labels must match exactly (in the order
    dnsbridge writes them: sorted, `le` last for histogram buckets)."""
    le = labels.pop("le", None)
    parts = [f'{k}="{v}"' for k, v in sorted(labels.items())] + ([f'le="{le}"'] if le else [])
    key = f"{name}{{{','.join(parts)}}}" if parts else name
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    if missing_ok:
        return 0.0
    raise AssertionError(f"no sample {key}")


class ControlTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = netlab.Lab("ctl")
        cls.addClassCleanup(cls.lab.close)
        cls.lab.build()
        cls.lab.start_targets()
        section, cls.audit = control_section(cls.lab)
        cls.section = section
        cls.lab.start_gateway(section)

    def curl(self, method, path, token=None, body=None):
        argv = ["ip", "netns", "exec", self.lab.ns("vclient"), "curl", "-s", "-m", "15", "-X", method,
                "-w", "\n%{http_code}", f"http://{CONTROL}{path}"]
        if token:
            argv += ["-H", f"Authorization: Bearer {token}"]
        if body is not None:
            argv += ["-H", "Content-Type: application/json", "-d", body]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        text, _, code = r.stdout.rpartition("\n")
        return int(code), text

    def audit_lines(self):
        with open(self.audit) as f:
            return [json.loads(line) for line in f if line.strip()]

    def test_metrics_count_a_known_set_of_queries_exactly(self):
        time.sleep(1.5)  # workers publish their counters once a second: let earlier queries settle
        code, before = self.curl("GET", "/metrics", READER)
        self.assertEqual(code, 200)
        for i in range(7):
            self.assertEqual(self.lab.short("vclient", "198.18.2.1", f"m{i}.load.corp.example"), ["198.18.10.9"])
        refused = self.lab.client("vclient", "query", "198.18.2.1", "x.load.corp.example", "AAAA", "source=198.18.2.200")
        self.assertEqual(refused["rcode"], "REFUSED")
        time.sleep(1.5)
        code, after = self.curl("GET", "/metrics", READER)
        self.assertEqual(code, 200)

        def delta(name, **labels):
            return sample(after, name, **labels) - sample(before, name, **labels, missing_ok=True)

        vpc = dict(endpoint="from-vpc")
        dc1 = dict(pool="onprem-dc", target="198.18.1.53:53")
        self.assertEqual(delta("dnsbridge_queries_total", transport="udp"), 8)
        self.assertEqual(delta("dnsbridge_endpoint_queries_total", transport="udp", **vpc), 8)
        self.assertEqual(delta("dnsbridge_endpoint_queries_total", transport="udp", endpoint="from-onprem"), 0)
        self.assertEqual(delta("dnsbridge_endpoint_answers_total", rcode="NOERROR", **vpc), 7)
        self.assertEqual(delta("dnsbridge_endpoint_answers_total", rcode="REFUSED", **vpc), 1)
        self.assertEqual(delta("dnsbridge_endpoint_refused_total", **vpc), 1)
        self.assertEqual(delta("dnsbridge_endpoint_query_types_total", qtype="A", **vpc), 7)
        self.assertEqual(delta("dnsbridge_rule_hits_total", rule="corp"), 7)
        self.assertEqual(delta("dnsbridge_target_tries_total", outcome="answered", **dc1), 7)
        self.assertEqual(delta("dnsbridge_target_latency_seconds_count", **dc1), 7)
        self.assertEqual(sample(after, "dnsbridge_target_latency_seconds_bucket", le="+Inf", **dc1),
                         sample(after, "dnsbridge_target_latency_seconds_count", **dc1))
        self.assertEqual(sample(after, "dnsbridge_target_state", state="up", **dc1), 1)
        self.assertIn("# TYPE dnsbridge_queries_total counter", after)
        self.assertIn("# TYPE dnsbridge_target_latency_seconds histogram", after)
        # Every sample line is name{labels} value, as Prometheus parses it.
        for line in after.splitlines():
            if not line.startswith("#"):
                self.assertRegex(line, r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$')

    def test_status_with_a_read_token(self):
        code, text = self.curl("GET", "/v1/status", READER)
        self.assertEqual(code, 200)
        report = json.loads(text)
        self.assertEqual({p["name"] for p in report["pools"]} >= {"onprem-dc", "vpc-resolver"}, True)
        self.assertGreaterEqual(report["config_generation"], 1)

    def test_status_command_over_the_control_listener(self):
        token_file = os.path.join(self.lab.dir, "my-token")
        with open(token_file, "w") as f:
            f.write(READER + "\n")
        cmd = ["ip", "netns", "exec", self.lab.ns("vclient"), netlab.DNSBRIDGE, "status", "--control", CONTROL]
        r = subprocess.run(cmd + ["--token-file", token_file, "--json"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("onprem-dc", {p["name"] for p in json.loads(r.stdout)["pools"]})
        r = subprocess.run(cmd + ["--token-file", token_file], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"pool onprem-dc \(first-available\)\n  TARGET +STATE")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env={"PATH": os.environ["PATH"]})
        self.assertEqual(r.returncode, 1)
        self.assertIn("answered 401: a bearer token is required", r.stderr)

    def test_no_token_wrong_token_and_wrong_role(self):
        self.assertEqual(self.curl("GET", "/metrics")[0], 401)
        self.assertEqual(self.curl("GET", "/v1/status", "not-a-token-at-all-0000")[0], 401)
        before = len(self.audit_lines())
        code, text = self.curl("POST", "/v1/cache/flush", READER)
        self.assertEqual(code, 403)
        self.assertIn("needs admin", text)
        self.assertEqual(self.curl("POST", "/v1/cache/flush")[0], 401)
        lines = self.audit_lines()[before:]
        self.assertEqual([(l["action"], l["token"], l["result"]) for l in lines],
                         [("POST /v1/cache/flush", "prometheus", "refused: 403"),
                          ("POST /v1/cache/flush", None, "refused: 401")])
        self.assertTrue(lines[0]["client"].startswith("198.18.2.10:"))
        self.assertEqual(self.curl("GET", "/v1/nothing", READER)[0], 404)
        self.assertEqual(self.curl("DELETE", "/metrics", READER)[0], 405)

    def test_admin_flushes_and_reloads_and_each_call_is_audited(self):
        before = len(self.audit_lines())
        code, text = self.curl("POST", "/v1/cache/flush", ADMIN, '{"name": "corp.example"}')
        self.assertEqual(code, 200, text)
        self.assertEqual(json.loads(text)["name"], "corp.example.")
        self.assertEqual(self.curl("POST", "/v1/cache/flush", ADMIN, "not json")[0], 400)
        generation = json.loads(self.curl("GET", "/v1/status", READER)[1])["config_generation"]
        code, text = self.curl("POST", "/v1/reload", ADMIN)
        self.assertEqual((code, json.loads(text)), (200, {"result": "reloaded", "config_generation": generation + 1}))
        # A broken file is rejected, and the gateway keeps its configuration.
        with open(self.lab.config_path, "a") as f:
            f.write("bogus_key: 1\n")
        try:
            code, text = self.curl("POST", "/v1/reload", ADMIN)
            self.assertEqual(code, 409, text)
        finally:
            self.lab.write_config(self.section)
        self.assertEqual(self.lab.short("vclient", "198.18.2.1", "www.corp.example"), ["198.18.10.1"])
        lines = self.audit_lines()[before:]
        self.assertEqual([(l["action"], l["token"], l["result"]) for l in lines], [
            ("POST /v1/cache/flush", "ops", lines[0]["result"]),
            ("POST /v1/reload", "ops", f"reloaded: generation {generation + 1}"),
            ("POST /v1/reload", "ops", "rejected"),
        ])
        self.assertRegex(lines[0]["result"], r"^flushed \d+ entries$")
        self.assertEqual(lines[0]["parameters"], {"name": "corp.example."})
        self.assertRegex(lines[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


    def servers(self, count):
        """Which on-premises server answered each of `count` fresh queries through from-vpc."""
        names = [f"d{time.monotonic_ns()}-{i}.pick.corp.example" for i in range(count)]
        return [" ".join(self.lab.short("vclient", "198.18.2.1", n, "TXT")) for n in names]

    def test_drain_takes_a_target_out_until_undrain(self):
        path = "/v1/targets/onprem-dc/198.18.1.53:53"
        self.assertTrue(all("served-by dc1" in s for s in self.servers(3)))
        self.assertEqual(self.curl("POST", path + "/drain", READER)[0], 403)
        code, text = self.curl("POST", path + "/drain", ADMIN)
        self.assertEqual((code, json.loads(text)), (200, {"pool": "onprem-dc", "target": "198.18.1.53:53", "drained": True}))
        try:
            # dc1 is healthy, but no query goes to it: the pool's other target (dc2 over IPv6) answers.
            self.assertTrue(all("served-by dc2" in s for s in self.servers(10)), self.servers(1))
            status = json.loads(self.curl("GET", "/v1/status", READER)[1])
            dc1 = next(t for p in status["pools"] if p["name"] == "onprem-dc" for t in p["targets"]
                       if t["address"] == "198.18.1.53:53")
            self.assertEqual((dc1["state"], dc1["drained"]), ("up", True))
        finally:
            code, _ = self.curl("POST", path + "/undrain", ADMIN)
        self.assertEqual(code, 200)
        self.assertTrue(all("served-by dc1" in s for s in self.servers(3)))
        self.assertEqual(self.curl("POST", "/v1/targets/onprem-dc/198.18.9.9:53/drain", ADMIN)[0], 404)
        results = [(l["action"], l["result"]) for l in self.audit_lines()[-4:]]
        self.assertEqual(results, [(f"POST {path}/drain", "refused: 403"), (f"POST {path}/drain", "drained"),
                                   (f"POST {path}/undrain", "undrained"),
                                   ("POST /v1/targets/onprem-dc/198.18.9.9:53/drain", "no such target")])

    def test_explain_is_the_cli_answer_with_live_health(self):
        body = json.dumps({"name": "www.public.corp.example", "endpoint": "from-vpc"})
        code, text = self.curl("POST", "/v1/explain", READER, body)
        self.assertEqual(code, 200, text)
        cli = subprocess.run([netlab.DNSBRIDGE, "explain", "www.public.corp.example", "--endpoint", "from-vpc", "--json",
                              "--config", self.lab.config_path], capture_output=True, text=True, check=True)
        def steady(x):  # the smoothed RTT moves with traffic between the two reads
            for e in x["explanations"]:
                for t in e["pool"]["targets"]:
                    t.pop("srtt_ms", None)
            return x
        self.assertEqual(steady(json.loads(text)), steady(json.loads(cli.stdout)))
        self.assertIn('"state"', text)  # live health, from the gateway itself
        self.assertEqual(self.curl("POST", "/v1/explain", READER, '{"name": "x..y"}')[0], 400)
        self.assertEqual(self.curl("POST", "/v1/explain", READER, '{"name": "a.example", "endpoint": "nope"}')[0], 404)


class TokensFileTests(unittest.TestCase):
    def test_a_tokens_file_others_can_read_stops_the_gateway(self):
        lab = netlab.Lab("ctm")
        self.addCleanup(lab.close)
        lab.add_ns("gw")
        section, _ = control_section(lab, tokens_mode=0o644)
        conf = lab.write_config(section)
        r = subprocess.run(["ip", "netns", "exec", lab.ns("gw"), netlab.DNSBRIDGE, "run", "--config", conf],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"tokens_file .* is readable by group or others \(mode 644\).*chmod 600")


if __name__ == "__main__":
    unittest.main()
