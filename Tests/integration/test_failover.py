"""Failover under load (issue: health-checked pools): a steady dnsperf stream of unique names at
1 000 q/s for 20 s through the outbound endpoint while dc1, the first target of the pool, fails
at 5 s and is restored at 12 s — by dying, by answering SERVFAIL, and by silently dropping
(blackhole). No query may be lost or answered SERVFAIL, and dc1 must be back in service within
interval × rise + 1 s of its restoration.
"""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402

import failover  # noqa: E402

VPC_ENDPOINT = "198.18.2.1"
INTERVAL, RISE = 1.0, 2  # the lab's onprem-dc pool uses the defaults


class FailoverTests(unittest.TestCase):
    def setUp(self):
        self.lab = netlab.Lab("f")
        self.addCleanup(self.lab.close)
        self.lab.build()
        self.lab.start_targets()
        self.lab.start_gateway()

    def check(self, kind):
        lab = self.lab
        self.assertEqual(failover.served_by(lab), '"served-by dc1"')
        r = failover.run(lab, kind, during=lambda lab: lab.status()["pools"][0]["targets"][0])
        self.assertGreater(r["sent"], 15_000, r["report"])
        self.assertEqual(r["lost"], 0, r["report"])
        self.assertEqual(r["servfail"], 0, r["report"])
        self.assertTrue(r["all_noerror"], r["report"])
        self.assertEqual((r["during"]["address"], r["during"]["state"]), ("198.18.1.53:53", "down"))
        self.assertIsNotNone(r["recovered_after"], "dc1 never came back into service\n" + lab.gateway_output())
        self.assertLessEqual(r["recovered_after"], INTERVAL * RISE + 1.0, lab.gateway_output())
        log = lab.gateway_output()
        self.assertIn("target 198.18.1.53:53 of pool onprem-dc is down", log)
        self.assertIn("target 198.18.1.53:53 of pool onprem-dc is up", log)

    def test_target_dies(self):
        self.check("dies")

    def test_target_answers_servfail(self):
        self.check("servfail")

    def test_target_blackholes(self):
        self.check("blackhole")


class AllDownTests(unittest.TestCase):
    def test_every_target_down_then_one_back(self):
        lab = netlab.Lab("d")
        self.addCleanup(lab.close)
        lab.build()
        lab.start_targets()
        lab.start_gateway()
        for name, p in lab.processes:
            if name in ("nsd-dc1", "nsd-dc2"):
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=5)
        r = lab.client("vclient", "query", VPC_ENDPOINT, "www.corp.example", "A")
        self.assertEqual(r["rcode"], "SERVFAIL")
        time.sleep(INTERVAL * 2 + 0.5)
        self.assertIn("pool onprem-dc: every target is down", lab.gateway_output())
        # Down targets are still tried: the moment one answers, clients are served again,
        # before any probe has marked it up.
        lab.nsd("dc2", ["198.18.1.54", "2001:db8:1::54"],
                {"corp.example": failover.dc1_zones()["corp.example"].replace("dc1", "dc2")})
        r = lab.client("vclient", "query", VPC_ENDPOINT, "www.corp.example", "A")
        self.assertEqual(r["answers"], ["198.18.10.1"])


if __name__ == "__main__":
    unittest.main()
