"""The answer cache between real networks: hits with aged TTLs, the client's case, negative
answers, and serve-stale when every target is down (RFC 8767)."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402

VPC_ENDPOINT = "198.18.2.1"


def ttl_of(dig_output):
    for line in dig_output.splitlines():
        if line and not line.startswith(";") and "\tIN\t" in line:
            return int(line.split()[1])
    return None


class CacheTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = netlab.Lab("c")
        cls.addClassCleanup(cls.lab.close)
        cls.lab.build()
        cls.lab.start_targets()
        cls.lab.start_gateway(cache="cache: { max_entries: 10000, serve_stale: 1h }")

    def counters(self):
        time.sleep(1.1)  # workers publish once a second
        return self.lab.status()["counters"]

    def dig(self, name, rtype="A"):
        # One fixed source port, so every query lands on the same worker (each has its own cache).
        return self.lab.dig("vclient", VPC_ENDPOINT, name, rtype, "+noall", "+answer", "+authority", "-b", "198.18.2.10#5999")

    def test_hit_ages_ttl_and_keeps_client_case(self):
        first = self.dig("db.corp.example")
        self.assertEqual(ttl_of(first), 300)
        before = self.counters()
        time.sleep(1.0)
        second = self.lab.dig("vclient", VPC_ENDPOINT, "DB.Corp.Example", "A", "-b", "198.18.2.10#5999")
        after = self.counters()
        self.assertGreaterEqual(after["cache_hits"], before["cache_hits"] + 1)
        self.assertEqual(after["upstream_queries"], before["upstream_queries"])
        self.assertIn(";DB.Corp.Example.", second)  # the question as this client asked it
        ttl = ttl_of("\n".join(l for l in second.splitlines() if not l.startswith(";")))
        self.assertLessEqual(ttl, 298)
        self.assertGreater(ttl, 290)

    def test_negative_answer_cached(self):
        self.dig("nope.corp.example")
        before = self.counters()
        out = self.lab.dig("vclient", VPC_ENDPOINT, "nope.corp.example", "A", "-b", "198.18.2.10#5999")
        after = self.counters()
        self.assertIn("status: NXDOMAIN", out)
        self.assertGreaterEqual(after["cache_hits"], before["cache_hits"] + 1)
        self.assertEqual(after["upstream_queries"], before["upstream_queries"])

    def test_flush(self):
        self.dig("www.corp.example")
        self.dig("app.cloud.internal")
        out = netlab.run([netlab.DNSBRIDGE, "cache", "flush", "corp.example", "--socket", self.lab.status_socket]).stdout
        self.assertRegex(out, r"flushed at and below corp\.example\.: [1-9]\d* entries dropped")
        before = self.counters()
        self.dig("www.corp.example")  # flushed: goes upstream again
        self.dig("app.cloud.internal")  # still cached
        after = self.counters()
        self.assertEqual(after["upstream_queries"], before["upstream_queries"] + 1)
        out = netlab.run([netlab.DNSBRIDGE, "cache", "flush", "--socket", self.lab.status_socket]).stdout
        self.assertRegex(out, r"flushed all entries: [1-9]\d* entries dropped")
        self.assertEqual(self.counters()["cache_entries"], 0)

    def test_z_serve_stale_when_every_target_is_down(self):
        self.assertEqual(ttl_of(self.dig("short.corp.example")), 1)
        for name, p in self.lab.processes:
            if name in ("nsd-dc1", "nsd-dc2") and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=5)
        time.sleep(1.5)  # the entry expires
        out = self.dig("short.corp.example")
        self.assertIn("198.18.10.5", out)
        self.assertEqual(ttl_of(out), 30)  # RFC 8767's stale TTL
        self.assertGreaterEqual(self.counters()["cache_stale_served"], 1)
        # A name never cached still fails.
        failed = self.lab.dig("vclient", VPC_ENDPOINT, "never.corp.example", "A")
        self.assertIn("status: SERVFAIL", failed)


if __name__ == "__main__":
    unittest.main()
