"""Hosts made of network namespaces, for tests that need several machines (as root: CI runs
as root): `ip netns`, a veth pair per host, a bridge in the test's namespace joining them,
10.77.X.0/24; removed afterwards whatever happens. A host's link can be cut silently (no RST,
no ICMP: its veth leaves the bridge, so frames go nowhere) and healed again."""

import os
import re
import secrets
import subprocess
import sys

from helpers import ROOT

HOSTS = 3
PORT = 5701


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def free_subnet() -> int:
    """X of a 10.77.X.0/24 that no interface here uses (0 if it is free)."""
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    taken = {int(x) for x in re.findall(r"inet 10\.77\.(\d+)\.", used)}
    return next(x for x in range(256) if x not in taken)


class Hosts:
    """Namespaces <tag>h1..h3, each with a veth whose other end is on the bridge <tag>br;
    host i is 10.77.X.i, the bridge (this namespace) 10.77.X.254."""

    def __init__(self) -> None:
        self.tag = f"sw{os.getpid()}"
        self.net = free_subnet()
        self.bridge = f"{self.tag}br"
        self.names = [f"{self.tag}h{i}" for i in range(1, HOSTS + 1)]
        self.veths = [f"{self.tag}v{i}" for i in range(1, HOSTS + 1)]
        self.procs: list[subprocess.Popen] = []

    def address(self, i: int) -> str:
        return f"10.77.{self.net}.{i}"

    def cluster_file(self, path: str, extra: str = "", root: str = "") -> str:
        """Write a cluster file (owner-only, no keys yet: `swarm keys` adds them) for a node
        n<i> on each host, its dir `<root>n<i>`; `extra`: more top-level settings."""
        nodes = "".join(f'[nodes.n{i}]\nendpoint = "tcp://{self.address(i)}:{PORT}"\n'
                        f'dir = "{root}n{i}"\n\n' for i in range(1, HOSTS + 1))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f'secret = "{secrets.token_hex(32)}"\n{extra}\n{nodes}')
        return path

    def create(self) -> None:
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.address(254)}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for i, (ns, veth) in enumerate(zip(self.names, self.veths, strict=True), 1):
            ip("netns", "add", ns)
            ip("link", "add", veth, "type", "veth", "peer", "name", f"{veth}p")
            ip("link", "set", f"{veth}p", "netns", ns)
            ip("link", "set", veth, "master", self.bridge)
            ip("link", "set", veth, "up")
            ip("-n", ns, "addr", "add", f"{self.address(i)}/24", "dev", f"{veth}p")
            ip("-n", ns, "link", "set", f"{veth}p", "up")
            ip("-n", ns, "link", "set", "lo", "up")

    def start(self, i: int, config: str, name: str, log) -> subprocess.Popen:
        """swarm-node in host i's namespace."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.names[i - 1], sys.executable, "-m",
                                 "swarm.node_main", "--config", config, "--name", name],
                                env=dict(os.environ, PYTHONPATH=ROOT), stdout=log, stderr=log)
        self.procs.append(proc)  # `ip netns exec` execs: this is the node's own pid
        return proc

    def cut(self, i: int) -> None:
        """Host i's link goes dead, silently: its frames reach nothing, as in a partition."""
        ip("link", "set", self.veths[i - 1], "nomaster")

    def heal(self, i: int) -> None:
        ip("link", "set", self.veths[i - 1], "master", self.bridge)

    def destroy(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for ns in self.names:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
