"""Several hosts in one test: three nodes, each in a network namespace of its own (its own
interfaces, addresses and ports, as on a machine of its own), joined by a bridge in the
test's namespace, which runs the client. Links are CURVE, as they must be off loopback.

Made by the test as root (CI runs as root): `ip netns`, veth pairs, a bridge, 10.77.X.0/24;
removed afterwards whatever happens. Skipped only when not root."""

import os
import re
import secrets
import socket
import subprocess
import sys
import threading

import pytest
import zmq
from helpers import ROOT, swarm_cli, wait_for, write

from swarm.client import connect
from swarm.node.config import ClusterConfig

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

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

    def destroy(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for ns in self.names:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


@pytest.fixture
def hosts():
    net = Hosts()
    try:
        net.create()
        yield net
    finally:
        net.destroy()


class Sniffer(threading.Thread):
    """Every frame crossing the hosts' veths, as seen from the bridge's side (AF_PACKET)."""

    def __init__(self, interfaces) -> None:
        super().__init__(daemon=True)
        self.interfaces = set(interfaces)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.settimeout(0.2)
        self.captured = bytearray()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                frame, (interface, *_) = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            if interface in self.interfaces:
                self.captured += frame

    def stop(self) -> bytes:
        self.done.set()
        self.join()
        self.sock.close()
        return bytes(self.captured)


ACROSS = """
import os
from swarm import Ref, here, nodes
SECRET_WORDS = "{words}"
refs = [Ref(SECRET_WORDS + " on " + name, at=name) for name in nodes()]
for ref in refs:
    print(ref.get(), "read on", here(), "in", os.readlink("/proc/self/ns/net"))
"""


def test_a_program_runs_across_three_hosts_over_curve(hosts, tmp_path):
    path = str(tmp_path / "cluster.toml")
    nodes = "".join(f'[nodes.n{i}]\nendpoint = "tcp://{hosts.address(i)}:{PORT}"\n'
                    f'dir = "n{i}"\n\n' for i in range(1, HOSTS + 1))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f'secret = "{secrets.token_hex(32)}"\n\n{nodes}')
    # without keys, a node will not listen on a host's address
    with open(tmp_path / "refused.log", "w") as log:
        assert hosts.start(1, path, "n1", log).wait(timeout=60) == 2
    assert "refusing to listen on tcp://10.77." in (tmp_path / "refused.log").read_text()
    assert swarm_cli("keys", "--cluster", path).returncode == 0
    assert ClusterConfig.load(path).curve
    logs = [open(tmp_path / f"n{i}.log", "w") for i in range(1, HOSTS + 1)]
    for i in range(1, HOSTS + 1):
        hosts.start(i, path, f"n{i}", logs[i - 1])
    words = f"bumble-{secrets.token_hex(8)}"
    sniffer = Sniffer(hosts.veths)
    sniffer.start()
    cluster = connect(path, timeout=60)  # from this namespace, through the bridge
    try:
        out = cluster.run_file(write(tmp_path, "across.py", ACROSS.format(words=words)),
                               timeout=60)
        wire = sniffer.stop()
        assert out.error is None, out.traceback
        lines = out.stdout.splitlines()
        assert [line.split(" in ")[0] for line in lines] == [
            f"{words} on n{i} read on n{i}" for i in range(1, HOSTS + 1)]
        namespaces = {line.split(" in ")[1] for line in lines}
        assert len(namespaces) == HOSTS  # three hosts, none of them this one
        assert os.readlink("/proc/self/ns/net") not in namespaces
        assert out.route == ["n1", "n2", "n3", "n1", "n2", "n3"]
        # the links were CURVE: ZeroMQ's greeting names the mechanism in the clear; the
        # programs, the values and even the protocol name of the signed messages are not
        assert len(wire) > 10_000 and b"CURVE" in wire
        assert words.encode() not in wire and b"SWARM/3" not in wire
        # a stranger on the network without keys gets nowhere, and the node says so
        stranger = cluster.ctx.socket(zmq.DEALER)
        stranger.setsockopt(zmq.LINGER, 0)
        stranger.connect(f"tcp://{hosts.address(2)}:{PORT}")
        stranger.send(b"hello?")
        assert wait_for(lambda: {r["node"]: r for r in cluster.status()}["n2"]
                        .get("refusals", {}).get("handshake failed", 0) >= 1)
        stranger.close(0)
    finally:
        if sniffer.is_alive():
            sniffer.stop()
        cluster.shutdown()
        cluster.close()
        for proc in hosts.procs[1:]:
            proc.wait(timeout=30)
        for log in logs:
            log.close()
