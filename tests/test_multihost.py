"""Several hosts in one test: three nodes, each in a network namespace of its own (its own
interfaces, addresses and ports, as on a machine of its own), joined by a bridge in the
test's namespace, which runs the client. Links are CURVE, as they must be off loopback.

Made by the test as root (CI runs as root): `ip netns`, veth pairs, a bridge, 10.77.X.0/24;
removed afterwards whatever happens. Skipped only when not root."""

import os
import secrets
import socket
import threading

import pytest
import zmq
from helpers import swarm_cli, wait_for, write
from netns import HOSTS, PORT, Hosts

from swarm.client import connect
from swarm.node.config import ClusterConfig
from swarm.wire import PROTOCOL

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


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
    path = hosts.cluster_file(str(tmp_path / "cluster.toml"))
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
        assert words.encode() not in wire and PROTOCOL not in wire
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


FETCH_ARRAY = """
import numpy as np
from swarm import Ref, here
r = Ref(np.arange(2**20, dtype=np.float64), at="n2")   # 8 MiB: in a file of n2's store
a = r.get()
obj = a
while getattr(obj, "base", None) is not None:
    obj = obj.base
print(here(), type(obj.obj if isinstance(obj, memoryview) else obj).__name__,
      float(a.sum()), float(a[-1]))
"""


def test_a_large_value_fetched_across_hosts_comes_as_bytes(hosts, tmp_path):
    """Nodes of other hosts (here: other mount namespaces, as `ip netns exec` makes) never map
    each other's store files (swarm/node/bulkmaps.py): the value is sent, and right."""
    path = hosts.cluster_file(str(tmp_path / "cluster.toml"), root=f"{tmp_path}/")
    assert swarm_cli("keys", "--cluster", path).returncode == 0
    logs = [open(tmp_path / f"n{i}.log", "w") for i in range(1, HOSTS + 1)]
    for i in range(1, HOSTS + 1):
        hosts.start(i, path, f"n{i}", logs[i - 1])
    cluster = connect(path, timeout=60)
    try:
        out = cluster.run_file(write(tmp_path, "fetch.py", FETCH_ARRAY), policy="fetch",
                               timeout=120)
        assert out.error is None, out.traceback
        total = float(sum(range(2**20)))
        assert out.stdout.split() == ["n1", out.stdout.split()[1], str(total),
                                      str(float(2**20 - 1))]
        assert out.stdout.split()[1] != "mmap"
        n1 = {row["node"]: row for row in cluster.status()}["n1"]
        assert n1["mapped"] == 0 and n1["maps_refused"] == 0 and n1["fetches"] >= 1
    finally:
        cluster.shutdown()
        cluster.close()
        for proc in hosts.procs:
            proc.wait(timeout=30)
        for log in logs:
            log.close()
