"""Failover under load (issue: health-checked pools): a steady dnsperf stream of unique names at
1 000 q/s for 20 s through the outbound endpoint while dc1, the first target of the pool, fails
at 5 s and is restored at 12 s — by dying, by answering SERVFAIL, and by silently dropping
(blackhole). No query may be lost or answered SERVFAIL, and dc1 must be back in service within
interval × rise + 1 s of its restoration.
"""
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402

VPC_ENDPOINT = "198.18.2.1"
INTERVAL, RISE = 1.0, 2  # the lab's onprem-dc pool uses the defaults


def dc1_zones():
    big = [c * 250 for c in "abcde"]
    return {"corp.example": netlab.CORP_ZONE.format(server="dc1", big1=big[0], big2=big[1], big3=big[2], big4=big[3],
                                                    big5=big[4]),
            "extra.example": netlab.EXTRA_ZONE}


class FailoverTests(unittest.TestCase):
    def setUp(self):
        self.lab = netlab.Lab("f")
        self.addCleanup(self.lab.close)
        self.lab.build()
        self.lab.start_targets()
        self.lab.start_gateway()

    def nsd_dc1(self):
        return [p for name, p in self.lab.processes if name == "nsd-dc1" and p.poll() is None][-1]

    def served_by(self):
        return self.lab.dig("vclient", VPC_ENDPOINT, "server.corp.example", "TXT", "+short").strip()

    def run_scenario(self, fail, restore):
        lab = self.lab
        self.assertEqual(self.served_by(), '"served-by dc1"')
        names = os.path.join(lab.dir, "names.txt")
        with open(names, "w") as f:
            for i in range(25_000):
                f.write(f"f{i}.load.corp.example A\n")
        out = os.path.join(lab.dir, "dnsperf.out")
        perf = lab.start("dnsperf", "vclient", ["dnsperf", "-s", VPC_ENDPOINT, "-d", names, "-l", "20", "-Q", "1000",
                                                 "-t", "5", "-S", "5"], log=out)
        start = time.monotonic()
        time.sleep(5)
        fail()
        time.sleep(max(0, 10 - (time.monotonic() - start)))
        dc1 = lab.status()["pools"][0]["targets"][0]
        self.assertEqual((dc1["address"], dc1["state"]), ("198.18.1.53:53", "down"))
        time.sleep(max(0, 12 - (time.monotonic() - start)))
        restore()
        restored = time.monotonic()
        recovered = None
        while time.monotonic() - restored < 6:
            if self.served_by() == '"served-by dc1"':
                recovered = time.monotonic() - restored
                break
            time.sleep(0.1)
        perf.wait(timeout=40)
        with open(out) as f:
            report = f.read()
        sent = int(re.search(r"Queries sent:\s+(\d+)", report).group(1))
        lost = int(re.search(r"Queries lost:\s+(\d+)", report).group(1))
        self.assertGreater(sent, 15_000, report)
        self.assertEqual(lost, 0, report)
        self.assertRegex(report, r"NOERROR \d+ \(100\.00%\)", report)
        self.assertIsNotNone(recovered, "dc1 never came back into service\n" + lab.gateway_output())
        self.assertLessEqual(recovered, INTERVAL * RISE + 1.0, lab.gateway_output())
        return lab.gateway_output()

    def test_target_dies(self):
        def fail():
            p = self.nsd_dc1()
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=5)

        def restore():
            self.lab.nsd("dc1", ["198.18.1.53"], dc1_zones())

        log = self.run_scenario(fail, restore)
        self.assertIn("target 198.18.1.53:53 of pool onprem-dc is down", log)
        self.assertIn("target 198.18.1.53:53 of pool onprem-dc is up", log)

    def test_target_answers_servfail(self):
        broken = {}

        def fail():
            p = self.nsd_dc1()
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=5)
            broken["p"] = self.lab.start("servfail", "dc1", ["/usr/bin/python3",
                                                              os.path.join(netlab.ROOT, "Tests/integration/servfail.py"),
                                                              "198.18.1.53", "30"])

        def restore():
            broken["p"].terminate()
            broken["p"].wait(timeout=5)
            self.lab.nsd("dc1", ["198.18.1.53"], dc1_zones())

        log = self.run_scenario(fail, restore)
        self.assertIn("target 198.18.1.53:53 of pool onprem-dc is down", log)

    def test_target_blackholes(self):
        def fail():
            os.killpg(self.nsd_dc1().pid, signal.SIGSTOP)

        def restore():
            os.killpg(self.nsd_dc1().pid, signal.SIGCONT)

        log = self.run_scenario(fail, restore)
        self.assertIn("target 198.18.1.53:53 of pool onprem-dc is down", log)


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
        lab.nsd("dc2", ["198.18.1.54", "2001:db8:1::54"], {"corp.example": dc1_zones()["corp.example"].replace("dc1", "dc2")})
        r = lab.client("vclient", "query", VPC_ENDPOINT, "www.corp.example", "A")
        self.assertEqual(r["answers"], ["198.18.10.1"])


if __name__ == "__main__":
    unittest.main()
