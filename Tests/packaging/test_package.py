"""The Debian package as an operator gets it: its contents and lintian's verdict, then an install
into a minimal Debian 12 root with apt (Depends resolved from the mirror), the installed unit
checked by that root's systemd, the gateway answering dig on loopback as the `dnsbridge` user,
an upgrade that keeps an edited configuration, and a purge that leaves nothing behind.

Run by `make package-test` (as root) after `make deb`; DNSBRIDGE_DEB names the package.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

from debian_root import ROOT, DebianRoot, run  # noqa: E402
from netlab import Lab  # noqa: E402

with open(os.path.join(ROOT, "VERSION")) as f:
    VERSION = f.read().strip()
ARCH = run(["dpkg", "--print-architecture"]).stdout.strip()
DEB = os.environ.get("DNSBRIDGE_DEB", os.path.join(ROOT, f"dnsbridge_{VERSION}_{ARCH}.deb"))
with open(os.path.join(ROOT, "README.md")) as f:
    README = f.read()
UNIT = "/lib/systemd/system/dnsbridge.service"
CONFIG = "/etc/dnsbridge/dnsbridge.yaml"

# Stands in for the operator's resolver: the root zone, so the health check's default question
# (`. SOA` for a pool no rule forwards to) is answered as a recursive resolver would.
ROOT_ZONE = """$ORIGIN .
$TTL 300
@               IN SOA ns.pkg.test. hostmaster.pkg.test. 1 7200 3600 1209600 300
@               IN NS  ns.pkg.test.
ns.pkg.test.    IN A   127.0.0.2
www.pkg.test.   IN A   198.18.53.1
"""


def accepted_lintian_tags():
    """The tags README's packaging section accepts, with a reason each: `| tag | level | reason |`."""
    if "\n### lintian\n" not in README:
        raise AssertionError("README has no '### lintian' section listing the accepted tags")
    section = README.split("\n### lintian\n", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.M))


class PackageContentsTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(DEB):
            raise unittest.SkipTest(f"{DEB} is missing: run `make deb` first")
        cls.dir = tempfile.mkdtemp(prefix="dnsbridge-deb-")
        run(["dpkg-deb", "-x", DEB, cls.dir])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_files_and_conffile(self):
        listing = run(["dpkg-deb", "-c", DEB]).stdout
        paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
        for path in ["/usr/sbin/dnsbridge", CONFIG, UNIT, "/etc/logrotate.d/dnsbridge", "/usr/share/man/man8/dnsbridge.8.gz",
                     "/usr/share/bash-completion/completions/dnsbridge", "/usr/share/doc/dnsbridge/copyright",
                     "/usr/share/doc/dnsbridge/changelog.gz"]:
            self.assertIn(path, paths)
        self.assertEqual(run(["dpkg-deb", "-I", DEB, "conffiles"]).stdout.split(), [CONFIG, "/etc/logrotate.d/dnsbridge"])
        self.assertEqual(run(["dpkg-deb", "-f", DEB, "Version"]).stdout.strip(), VERSION)

    def test_swift_runtime_is_static_and_depends_come_from_the_binary(self):
        binary = os.path.join(self.dir, "usr/sbin/dnsbridge")
        dynamic = run(["readelf", "-d", binary]).stdout
        needed = re.findall(r"\(NEEDED\).*\[(.+)\]", dynamic)
        self.assertIn("libyaml-0.so.2", needed)
        self.assertFalse([lib for lib in needed if "swift" in lib.lower() or "Foundation" in lib], needed)
        self.assertRegex(dynamic, r"\(FLAGS\).*BIND_NOW")
        depends = run(["dpkg-deb", "-f", DEB, "Depends"]).stdout
        # dpkg-shlibdeps writes versioned dependencies for every library the binary links.
        names = {d.split()[0] for d in depends.split(",")}
        self.assertLessEqual({"libc6", "libyaml-0-2", "libsystemd0", "libstdc++6", "libnftnl11", "libmnl0"}, names, depends)
        self.assertIn("libc6 (>= ", depends)
        self.assertEqual(run([binary, "version"]).stdout.splitlines()[0], f"dnsbridge {VERSION}")

    def test_lintian_finds_no_error_and_only_accepted_warnings(self):
        r = run(["lintian", "--display-level", ">=warning", "--no-tag-display-limit", DEB], check=False)
        tags = [line.split() for line in r.stdout.splitlines() if re.match(r"^[EW]: ", line)]
        errors = [t for t in tags if t[0] == "E:"]
        self.assertEqual(errors, [], r.stdout)
        warnings = {t[2] for t in tags if t[0] == "W:"}
        self.assertLessEqual(warnings, accepted_lintian_tags(),
                             "lintian warnings the README does not list with a reason")


class InstallTests(unittest.TestCase):
    """One root through the package's whole life, in order; each step needs the ones before."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(DEB):
            raise unittest.SkipTest(f"{DEB} is missing: run `make deb` first")
        cls.root = DebianRoot()
        cls.before = cls.root.files()
        cls.lab = Lab(tag="p")
        cls.netns = cls.lab.add_ns("pkg")
        cls.deb = "/tmp/" + os.path.basename(DEB)
        shutil.copy(DEB, cls.root.host_path(cls.deb))

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()
        cls.root.close()

    def setUp(self):
        if getattr(InstallTests, "broken", None):
            self.skipTest(f"an earlier step failed: {InstallTests.broken}")

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            InstallTests.broken = self.id().rsplit(".", 1)[-1]

    def test_1_apt_install_resolves_depends(self):
        r = self.root.sh(f"apt-get update -qq && apt-get install -y -q {self.deb}")
        self.assertIn("Setting up dnsbridge", r.stdout)
        status = self.root.sh("dpkg-query -W -f '${Status}' libyaml-0-2").stdout
        self.assertEqual(status, "install ok installed", "libyaml-0-2 was not pulled in by Depends")
        self.assertIn("dnsbridge:", self.root.sh("getent passwd dnsbridge").stdout)
        # Enabled (postinst) but not started: the shipped configuration needs editing first.
        self.assertTrue(os.path.islink(self.root.host_path(
            "/etc/systemd/system/multi-user.target.wants/dnsbridge.service")))

    def test_2_unit_passes_systemd_analyze_verify(self):
        r = self.root.sh(f"systemd-analyze verify {UNIT}", check=False)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    def test_3_unit_exposure_is_low_and_in_the_readme(self):
        r = self.root.sh(f"systemd-analyze security --offline=yes --no-pager {UNIT}")
        figure = re.search(r"Overall exposure level for dnsbridge\.service: (\d+\.\d)", r.stdout).group(1)
        self.assertLess(float(figure), 3.0)
        self.assertTrue(f"exposure level {figure}" in README, f"README must quote the current figure, {figure}")

    def test_4_version_and_check_of_the_shipped_config(self):
        self.assertEqual(self.root.sh("dnsbridge version").stdout.splitlines()[0], f"dnsbridge {VERSION}")
        r = self.root.sh(f"dnsbridge check {CONFIG}")
        self.assertIn("ok: 1 endpoints, 1 pools", r.stdout)
        self.assertEqual(r.stderr, "")
        self.assertIn("DNSBRIDGE", self.root.sh("man -P cat dnsbridge").stdout)

    def test_5_answers_dig_on_loopback_as_the_service_user(self):
        self.lab.nsd("pkg", ["127.0.0.2"], {".": ROOT_ZONE})
        self.gateway_log = os.path.join(self.lab.dir, "gateway.log")
        shipped = self.root.read(CONFIG)
        self.assertIn('"192.0.2.53:53"', shipped)
        self.root.write("/tmp/loopback.yaml", shipped.replace('"192.0.2.53:53"', '"127.0.0.2:53"'))
        # What systemd does for the unit: RuntimeDirectory=, StateDirectory=, LogsDirectory=, then
        # the user with the one capability it needs here.
        self.root.sh("install -d -o dnsbridge -g dnsbridge -m 0755 /run/dnsbridge /var/lib/dnsbridge "
                     "/var/log/dnsbridge")
        gateway = self.lab.start("dnsbridge-pkg", "pkg", self.root.argv(
            "exec setpriv --reuid=dnsbridge --regid=dnsbridge --clear-groups --inh-caps=+net_bind_service "
            "--ambient-caps=+net_bind_service /usr/sbin/dnsbridge run --config /tmp/loopback.yaml"),
            log=self.gateway_log)
        try:
            self.lab.wait_for_dns("pkg", "127.0.0.1", ".")
            self.assertEqual(self.lab.short("pkg", "127.0.0.1", "www.pkg.test"), ["198.18.53.1"])
            self.assertEqual(self.lab.short("pkg", "::1", "www.pkg.test", "A", "+tcp"), ["198.18.53.1"])
            uid = self.root.sh("id -u dnsbridge").stdout.strip()
            with open(f"/proc/{gateway.pid}/status") as f:
                self.assertRegex(f.read(), rf"\nUid:\t{uid}\t{uid}\t")
            report = json.loads(self.root.sh("dnsbridge status --json").stdout)
            target = report["pools"][0]["targets"][0]
            self.assertEqual((target["address"], target["state"]), ("127.0.0.2:53", "up"))
        finally:
            os.kill(gateway.pid, signal.SIGTERM)
            code = gateway.wait(timeout=15)
        with open(self.gateway_log) as f:
            self.assertEqual(code, 0, f.read())
        # The unit's other capability is enough to program isolation through netlink, with the
        # libnftnl and libmnl that Depends brought in.
        self.root.write("/tmp/loopback.yaml", "isolation: { enabled: true }\n", mode="a")
        as_service = ("setpriv --reuid=dnsbridge --regid=dnsbridge --clear-groups --inh-caps=+net_admin "
                      "--ambient-caps=+net_admin /usr/sbin/dnsbridge isolation")
        r = self.root.sh(f"{as_service} apply --config /tmp/loopback.yaml", netns=self.netns)
        self.assertIn("applied table inet dnsbridge", r.stdout)
        self.assertIn("no drift", self.root.sh(f"{as_service} verify --config /tmp/loopback.yaml", netns=self.netns).stdout)
        self.root.sh(f"{as_service} flush", netns=self.netns)
        os.remove(self.root.host_path("/tmp/loopback.yaml"))

    def test_6_upgrade_keeps_the_edited_config(self):
        self.root.write(CONFIG, "# edited by the operator\n", mode="a")
        edited = self.root.read(CONFIG)
        newer = f"{VERSION}+upgrade1"
        work = tempfile.mkdtemp(prefix="dnsbridge-upgrade-")
        try:
            tree = os.path.join(work, "tree")
            run(["dpkg-deb", "-R", DEB, tree])
            control = os.path.join(tree, "DEBIAN/control")
            with open(control) as f:
                text = f.read()
            self.assertIn(f"Version: {VERSION}\n", text)
            with open(control, "w") as f:
                f.write(text.replace(f"Version: {VERSION}\n", f"Version: {newer}\n"))
            run(["dpkg-deb", "--root-owner-group", "--build", tree, self.root.host_path("/tmp/upgrade.deb")])
        finally:
            shutil.rmtree(work, ignore_errors=True)
        r = self.root.sh("apt-get install -y -q /tmp/upgrade.deb")
        self.assertIn(f"Unpacking dnsbridge ({newer}) over ({VERSION})", r.stdout)
        os.remove(self.root.host_path("/tmp/upgrade.deb"))
        self.assertEqual(self.root.sh("dpkg-query -W -f '${Version}' dnsbridge").stdout, newer)
        self.assertEqual(self.root.read(CONFIG), edited)
        self.assertIn("dnsbridge:", self.root.sh("getent passwd dnsbridge").stdout)

    def test_7_purge_leaves_nothing_behind(self):
        # A table dnsbridge's isolation would own, and one it must never touch.
        for table in ("inet dnsbridge", "inet bystander"):
            run(["ip", "netns", "exec", self.netns, "nft", "add", "table"] + table.split())
        self.root.sh("apt-get purge -y -q dnsbridge && apt-get autoremove --purge -y -q", netns=self.netns)
        tables = run(["ip", "netns", "exec", self.netns, "nft", "list", "tables"]).stdout
        self.assertNotIn("inet dnsbridge", tables)
        self.assertIn("inet bystander", tables)
        self.assertEqual(self.root.sh("getent passwd dnsbridge; getent group dnsbridge", check=False).stdout, "")
        os.remove(self.root.host_path(self.deb))
        after = self.root.files()
        left = sorted(set(after) - set(self.before))
        gone = sorted(set(self.before) - set(after))
        self.assertEqual((left, gone), ([], []), "files left behind by the purge, or removed by it")


if __name__ == "__main__":
    unittest.main()
