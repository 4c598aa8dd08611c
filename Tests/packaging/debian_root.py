"""A throwaway minimal Debian 12 root for installing the package into, as an operator would.

The base root is made once with debootstrap and kept as a tarball under `.cache/` (git-ignored)
at the package root, so later runs only unpack it. Commands run chrooted in a private mount
namespace that mounts /proc, /dev/pts and /sys for them and vanishes with them, so nothing stays
mounted after a test, even on failure. Only apt inside the root reaches the network, to fetch the
package's Depends from the Debian mirror the host itself uses.
"""
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, ".cache", "debian-root")
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# What a Debian 12 server has and minbase lacks: systemd (for `systemd-analyze verify` of the
# installed unit), procps (/bin/kill, the unit's ExecReload), nftables (postrm flushes the
# table with nft), man-db (the unit's Documentation= is checked with man).
INCLUDE = ["systemd", "procps", "nftables", "man-db"]

# Bookkeeping that installing and purging any package changes: dpkg's and apt's databases,
# caches and logs, the man index, the linker cache, the backup copies shadow's tools leave of the
# account files, adduser's lock and systemd-analyze's marker in /run (a tmpfs on a booted
# system). Everything else must be exactly as it was before the install.
BOOKKEEPING = ("run/adduser", "run/systemd/", "var/lib/dpkg/", "var/lib/apt/", "var/cache/apt/", "var/cache/debconf/",
               "var/cache/man/", "var/cache/ldconfig/", "var/log/apt/", "var/log/dpkg.log",
               "var/log/alternatives.log", "etc/ld.so.cache", "etc/passwd-", "etc/group-",
               "etc/shadow-", "etc/gshadow-", "etc/subuid-", "etc/subgid-")
VIRTUAL = ("proc/", "sys/", "dev/", "tmp/")


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def base_tarball():
    """The cached base root, made with debootstrap the first time."""
    key = hashlib.sha256(" ".join([SUITE, MIRROR] + INCLUDE).encode()).hexdigest()[:12]
    tarball = os.path.join(CACHE, f"{SUITE}-minbase-{key}.tar")
    if os.path.exists(tarball):
        return tarball
    os.makedirs(CACHE, exist_ok=True)
    work = tempfile.mkdtemp(prefix="debootstrap-", dir=CACHE)
    try:
        target = os.path.join(work, "root")
        r = run(["debootstrap", "--variant=minbase", "--include=" + ",".join(INCLUDE), SUITE, target, MIRROR],
                check=False, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f"debootstrap failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        run(["tar", "-C", target, "-cf", tarball + ".part", "."])
        os.rename(tarball + ".part", tarball)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tarball


class DebianRoot:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dnsbridge-root-")
        self.path = os.path.join(self.dir, "root")
        os.mkdir(self.path)
        run(["tar", "-C", self.path, "-xf", base_tarball()])
        # apt inside resolves the mirror as the host does.
        shutil.copy("/etc/resolv.conf", os.path.join(self.path, "etc/resolv.conf"))

    def host_path(self, path):
        return os.path.join(self.path, path.lstrip("/"))

    def read(self, path):
        with open(self.host_path(path)) as f:
            return f.read()

    def write(self, path, text, mode="w"):
        with open(self.host_path(path), mode) as f:
            f.write(text)

    def argv(self, command, netns=None):
        """argv that runs the shell `command` chrooted, with /proc, /dev/pts and /sys mounted
        only for it (the Swift runtime reads its arguments from /proc/self/cmdline)."""
        r = shlex.quote(self.path)
        script = (f"mount -t proc proc {r}/proc && mount -t devpts -o newinstance devpts {r}/dev/pts && "
                  f"mount -t sysfs sysfs {r}/sys && exec chroot {r} /bin/sh -c {shlex.quote(command)}")
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
        return (["ip", "netns", "exec", netns] + argv) if netns else argv

    def sh(self, command, netns=None, check=True, timeout=600):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
        r = run(self.argv(command, netns), check=False, timeout=timeout, env=env)
        if check and r.returncode != 0:
            raise AssertionError(f"in the Debian root, `{command}` exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    def files(self):
        """Every path in the root with its kind, but for bookkeeping and virtual file systems."""
        found = {}
        for folder, dirs, names in os.walk(self.path):
            rel = os.path.relpath(folder, self.path)
            rel = "" if rel == "." else rel + "/"
            for name in dirs + names:
                path = rel + name
                if path.startswith(VIRTUAL) or path.startswith(BOOKKEEPING):
                    continue
                full = os.path.join(folder, name)
                found[path] = "link" if os.path.islink(full) else "dir" if os.path.isdir(full) else "file"
        return found

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)
