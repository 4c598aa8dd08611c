"""The failover scenario shared by the failover tests and bench/failover.sh: dnsperf sends unique
names at 1 000 q/s for 20 s through the gateway at 198.18.2.1; dc1, the pool's first target,
fails at 5 s and is restored at 12 s. Returns what dnsperf saw and how long dc1 took to be back
in service after its restoration.
"""
import os
import re
import signal
import time

import netlab

GATEWAY = "198.18.2.1"
KINDS = ("dies", "servfail", "blackhole")


def dc1_zones():
    big = [c * 250 for c in "abcde"]
    return {"corp.example": netlab.CORP_ZONE.format(server="dc1", big1=big[0], big2=big[1], big3=big[2], big4=big[3],
                                                    big5=big[4]),
            "extra.example": netlab.EXTRA_ZONE}


def nsd_dc1(lab):
    return [p for name, p in lab.processes if name == "nsd-dc1" and p.poll() is None][-1]


def served_by(lab):
    return lab.dig("vclient", GATEWAY, "server.corp.example", "TXT", "+short").strip()


def faults(lab, kind):
    """(fail, restore) actions for one kind of failure of dc1."""
    state = {}

    def kill_nsd():
        p = nsd_dc1(lab)
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=5)

    def start_nsd():
        lab.nsd("dc1", ["198.18.1.53"], dc1_zones())

    if kind == "dies":
        return kill_nsd, start_nsd
    if kind == "servfail":
        def fail():
            kill_nsd()
            state["p"] = lab.start("servfail", "dc1", ["/usr/bin/python3",
                                                        os.path.join(netlab.ROOT, "Tests/integration/servfail.py"),
                                                        "198.18.1.53", "30"])

        def restore():
            state["p"].terminate()
            state["p"].wait(timeout=5)
            start_nsd()
        return fail, restore
    if kind == "blackhole":
        return (lambda: os.killpg(nsd_dc1(lab).pid, signal.SIGSTOP),
                lambda: os.killpg(nsd_dc1(lab).pid, signal.SIGCONT))
    raise ValueError(kind)


def run(lab, kind, during=None):
    """Runs the scenario; `during(lab)` is called at 10 s, while dc1 is failed."""
    fail, restore = faults(lab, kind)
    names = os.path.join(lab.dir, f"names-{kind}.txt")
    with open(names, "w") as f:
        for i in range(25_000):
            f.write(f"{kind}{i}.load.corp.example A\n")
    out = os.path.join(lab.dir, f"dnsperf-{kind}.out")
    perf = lab.start("dnsperf", "vclient", ["dnsperf", "-s", GATEWAY, "-d", names, "-l", "20", "-Q", "1000",
                                             "-t", "5", "-S", "5"], log=out)
    start = time.monotonic()
    time.sleep(5)
    fail()
    time.sleep(max(0, 10 - (time.monotonic() - start)))
    seen = during(lab) if during else None
    time.sleep(max(0, 12 - (time.monotonic() - start)))
    restore()
    restored = time.monotonic()
    recovered = None
    while time.monotonic() - restored < 6:
        if served_by(lab) == '"served-by dc1"':
            recovered = time.monotonic() - restored
            break
        time.sleep(0.1)
    perf.wait(timeout=40)
    with open(out) as f:
        report = f.read()
    servfail = re.search(r"SERVFAIL (\d+)", report)
    return {
        "sent": int(re.search(r"Queries sent:\s+(\d+)", report).group(1)),
        "lost": int(re.search(r"Queries lost:\s+(\d+)", report).group(1)),
        "servfail": int(servfail.group(1)) if servfail else 0,
        "all_noerror": re.search(r"NOERROR \d+ \(100\.00%\)", report) is not None,
        "recovered_after": recovered,
        "during": seen,
        "report": report,
    }
