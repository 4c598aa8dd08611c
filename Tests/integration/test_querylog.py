"""The query log: one JSON object per line for every answered query, written by its own thread,
sampled on request, reopened on SIGUSR1 — on the demo topology in namespaces.

Run as root by `make integration-test` with DNSBRIDGE pointing at the release binary.
"""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402

FIELDS = {"timestamp", "endpoint", "client_address", "client_port", "transport", "query_name", "query_type",
          "query_class", "rcode", "answers", "rule", "pool", "target", "latency_ms", "cache_hit", "source"}


class QueryLogTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = netlab.Lab("qlg")
        cls.addClassCleanup(cls.lab.close)
        cls.lab.build()
        cls.lab.start_targets()
        cls.path = os.path.join(cls.lab.dir, "queries.log")
        cls.lab.start_gateway(f'query_log: {{ path: "{cls.path}" }}\n', cache="cache: { max_entries: 1000 }")

    def lines(self, path=None, settle=0.5):
        time.sleep(settle)  # the writer drains every 100 ms
        with open(path or self.path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def find(self, name, **fields):
        for line in reversed(self.lines()):
            if line["query_name"] == name and all(line[k] == v for k, v in fields.items()):
                return line
        raise AssertionError(f"no log line for {name} with {fields}")

    def test_forwarded_query(self):
        self.assertEqual(self.lab.short("vclient", "198.18.2.1", "WWW.corp.example"), ["198.18.10.1"])
        line = self.find("WWW.corp.example.", cache_hit=False)
        self.assertEqual(set(line), FIELDS)
        self.assertEqual((line["endpoint"], line["client_address"], line["transport"], line["query_type"],
                          line["query_class"], line["rcode"], line["rule"], line["pool"], line["target"], line["source"]),
                         ("from-vpc", "198.18.2.10", "udp", "A", "IN", "NOERROR", "corp", "onprem-dc", "198.18.1.53:53",
                          "upstream"))
        self.assertEqual(line["answers"][0], {"name": "WWW.corp.example.", "type": "A", "class": "IN", "ttl": 300,
                                              "rdata": "198.18.10.1"})
        self.assertGreater(line["client_port"], 0)
        self.assertGreater(line["latency_ms"], 0)
        self.assertRegex(line["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def test_refused_query(self):
        r = self.lab.client("vclient", "query", "198.18.2.1", "refused.corp.example", "TXT", "source=198.18.2.200")
        self.assertEqual(r["rcode"], "REFUSED")
        line = self.find("refused.corp.example.")
        self.assertEqual((line["client_address"], line["rcode"], line["query_type"], line["source"], line["pool"],
                          line["rule"], line["answers"]), ("198.18.2.200", "REFUSED", "TXT", "local", None, None, []))

    def test_cached_query_over_tcp(self):
        # Each of the two workers keeps its own cache: of four queries at least two are hits.
        for _ in range(4):
            self.assertEqual(self.lab.short("vclient", "198.18.2.1", "db.corp.example", "A", "+tcp"), ["198.18.10.2"])
        line = self.find("db.corp.example.", cache_hit=True)
        self.assertEqual((line["source"], line["transport"], line["pool"], line["target"], line["rule"]),
                         ("cache", "tcp", "onprem-dc", None, "corp"))
        self.assertLessEqual(line["answers"][0]["ttl"], 300)

    def test_z_reopened_on_sigusr1(self):
        moved = self.path + ".1"
        os.rename(self.path, moved)
        os.kill(self.lab.gateway.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while not os.path.exists(self.path) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.lab.short("vclient", "198.18.2.1", "app.cloud.internal"), ["198.18.20.1"])
        names = [l["query_name"] for l in self.lines()]
        self.assertEqual(names, ["app.cloud.internal."])
        self.assertNotIn("app.cloud.internal.", [l["query_name"] for l in self.lines(moved, settle=0)])


class SamplingTests(unittest.TestCase):
    def test_half_the_queries_are_logged(self):
        lab = netlab.Lab("qls")
        self.addCleanup(lab.close)
        lab.build()
        lab.start_targets()
        path = os.path.join(lab.dir, "queries.log")
        lab.start_gateway(f'query_log: {{ path: "{path}", sample: 0.5 }}\n')
        time.sleep(0.5)  # the start-up query's line, if sampled, is written by now
        with open(path) as f:
            before = len(f.read().splitlines())
        r = lab.client("vclient", "pipeline", "198.18.2.1", 200, "load.corp.example")
        self.assertEqual(r["answers"], 200)
        time.sleep(0.5)
        with open(path) as f:
            logged = [json.loads(l) for l in f.read().splitlines()[before:]]
        # Binomial(200, 0.5): 100 ± 7; outside 60..140 would take a broken sampler.
        self.assertTrue(60 <= len(logged) <= 140, len(logged))
        self.assertTrue(all(l["query_name"].endswith(".load.corp.example.") for l in logged))


if __name__ == "__main__":
    unittest.main()
