"""The trust boundary on real nodes: replays refused before anything is unpickled, CURVE
letting in only the cluster's keys, loopback only without keys, a private cluster file.
(docs/security.md; the gate alone: test_wire_gate.py; fuzzing: faults/test_wire_fuzz.py)"""

import contextlib
import os
import pickle
import signal
import socket
import subprocess
import sys

import pytest
import zmq
from helpers import ROOT, UnpickleProof, node_log, swarm_cli, times_unpickled, wait_for, write

import swarm
from swarm.client import Cluster, program_sources
from swarm.embedded import start_nodes
from swarm.node.config import ClusterConfig, ConfigError, free_port, local_config
from swarm.wire import curve, decode
from swarm.wire.envelope import Signer, unpack

READ_REFS = """
from swarm import Ref, here
a = Ref("alpha", at="n2")
b = Ref("beta", at="n3")
print(a.get(), here(), b.get(), here())
"""


def attacker(cluster, node: str, identity: str | None = None, keys=None,
             server_key: str | None = None) -> zmq.Socket:
    """A DEALER of the test's own to `node`: with an identity, and CURVE keys, if given."""
    sock = cluster.ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    if identity:
        sock.setsockopt(zmq.IDENTITY, identity.encode())
    if keys:
        curve.make_client(sock, *keys, server_key)
    sock.connect(cluster.config.nodes[node].endpoint)
    return sock


def receive(sock, secret: bytes, until, timeout: float = 20.0) -> list:
    """Verified (kind, payload) messages from `sock` up to the first for which until(kind,
    payload) holds; fails if it does not come within `timeout` seconds."""
    got = []
    while True:
        assert sock.poll(int(timeout * 1000)), f"nothing came; so far {got}"
        env = unpack(secret, sock.recv_multipart())
        got.append((env.kind, decode.payload(env)))
        if until(*got[-1]):
            return got


def sync(sock, signer: Signer, secret: bytes) -> list:
    """Ping on the same connection: when the pong comes, the node has handled everything
    sent before it. Returns what came meanwhile (the pong last)."""
    sock.send_multipart(signer.pack("ping", decode.encode({})))
    return receive(sock, secret, lambda kind, p: kind == "pong")


def refusals(cluster, node: str) -> dict:
    return {row["node"]: row for row in cluster.status()}[node].get("refusals", {})


def submission(tmp_path, proof, program: str) -> bytes:
    """A submit payload (msgpack: nothing in it is ever unpickled) of a program that prints
    "ran" and leaves a line in `proof` each time it runs."""
    script = write(tmp_path, "ran.py", f"with open({str(proof)!r}, 'a') as f:\n"
                                       f"    f.write('ran\\n')\nprint('ran')\n")
    entry, sources, modules = program_sources(script)
    return decode.encode({"program": program, "sources": sources, "entry": entry,
                          "modules": modules, "argv": [script]})


def times_run(proof) -> int:
    return proof.read_text().count("ran") if proof.exists() else 0


def test_a_replayed_submission_runs_once_and_is_refused_unread(tmp_path):
    proof = tmp_path / "unpickled"
    with swarm.local_cluster(2) as cluster:
        secret = cluster.config.secret
        sock = attacker(cluster, "n1", identity="replayer")
        signer = Signer(secret, "replayer")
        submit = signer.pack("submit", submission(tmp_path, proof, "replayer-1"))
        sock.send_multipart(submit)
        got = receive(sock, secret, lambda kind, p: kind == "result")
        assert ("output", {"program": "replayer-1", "seq": 0, "text": "ran\n"}) in got
        assert times_run(proof) == 1  # the submission itself was taken
        for _ in range(3):
            sock.send_multipart(submit)  # the same frames, signed and all
        meanwhile = sync(sock, signer, secret)
        assert [kind for kind, _ in meanwhile] == ["pong"]  # it did not run again
        assert times_run(proof) == 1
        assert refusals(cluster, "n1").get("replayed", 0) >= 3
        assert "was taken already" in node_log(cluster, "n1")


def test_replays_across_a_clean_stop_and_a_crash_are_refused_unread(tmp_path):
    """A restarted node has forgotten what it took: it refuses whatever was sent before its
    last clean stop, or before it started again after a crash."""
    proof = tmp_path / "unpickled"
    with swarm.local_cluster(2) as cluster:
        secret = cluster.config.secret
        sock = attacker(cluster, "n2", identity="operator")
        signer = Signer(secret, "operator")
        submit = signer.pack("submit", submission(tmp_path, proof, "operator-1"))
        sock.send_multipart(submit)
        receive(sock, secret, lambda kind, p: kind == "result")
        stop = signer.pack("stop", decode.encode({}))
        sock.send_multipart(stop)
        assert cluster.procs["n2"].wait(timeout=20) == 0  # stopped cleanly
        for restart in (cluster.restart, lambda name: (cluster.kill(name), cluster.restart(name))):
            restart("n2")
            cluster.wait_ready()
            sock.send_multipart(stop)
            sock.send_multipart(submit)
            assert [kind for kind, _ in sync(sock, signer, secret)] == ["pong"]
            assert cluster.procs["n2"].poll() is None  # the replayed stop did not stop it
            assert times_run(proof) == 1
            assert refusals(cluster, "n2").get("replayed", 0) >= 2
        assert "before this node's last stop or restart" in node_log(cluster, "n2")


def test_signed_messages_from_the_wrong_sender_or_malformed_are_refused(tmp_path):
    proof = tmp_path / "unpickled"
    with swarm.local_cluster(3) as cluster:
        secret = cluster.config.secret
        meta = decode.encode({"program": "p"})
        blobs = (meta, pickle.dumps(UnpickleProof(proof)))  # the continuation: a proof
        stranger = attacker(cluster, "n2", identity="n9")
        stranger.send_multipart(Signer(secret, "n9").pack("hop", decode.encode({}), blobs))
        posing = attacker(cluster, "n2", identity="c-posing")
        # n1, but not on n1's socket
        posing.send_multipart(Signer(secret, "n1").pack("hop", decode.encode({}), blobs))
        client = Signer(secret, "c-posing")
        posing.send_multipart(client.pack("ack", decode.encode({"hop_ids": []})))  # not a node
        posing.send_multipart(client.pack("submit", decode.encode({"program": 1})))
        posing.send_multipart(client.pack("submit", b"\x80\x05a pickle, not msgpack"))
        posing.send_multipart(client.pack("submit", decode.encode(
            {"program": "p", "sources": {}, "entry": "e", "modules": {"zmq": "h"}})))
        sync(posing, client, secret)
        assert times_unpickled(proof) == 0
        counts = refusals(cluster, "n2")
        assert counts.get("unknown sender", 0) == 3 and counts.get("malformed", 0) == 3
        out = cluster.run_file(write(tmp_path, "read.py", READ_REFS), timeout=30)
        assert out.stdout == "alpha n2 beta n3\n" and out.error is None
        log = node_log(cluster, "n2")
        for reason in ("which is not a node of this cluster", "came on the connection of",
                       "field 'program' is a int, not str", "undecodable",
                       "field 'modules' is malformed"):
            assert reason in log


def test_curve_nodes_let_in_only_the_cluster_s_keys(tmp_path):
    proof = tmp_path / "unpickled"
    evil = pickle.dumps({"program": "x", "sources": UnpickleProof(proof)})
    with swarm.local_cluster(3, curve=True) as cluster:
        config = cluster.config
        n2 = config.nodes["n2"]
        clients = (config.client_public_key, config.client_secret_key)
        socks = [
            # no CURVE at all, though it holds the cluster's secret
            attacker(cluster, "n2", identity="plain"),
            # CURVE, with n2's public key (it is public) but a key of its own
            attacker(cluster, "n2", "stranger", curve.keypair(), n2.public_key),
            # the clients' keys, fooled about n2's public key (as if talking to an impostor)
            attacker(cluster, "n2", "fooled", clients, curve.keypair()[0]),
        ]
        for sock in socks:
            sender = sock.getsockopt(zmq.IDENTITY).decode()
            sock.send_multipart(Signer(config.secret, sender).pack("submit", evil))
        host, port = n2.endpoint[len("tcp://"):].rsplit(":", 1)
        with socket.create_connection((host, int(port))) as raw:  # not even ZeroMQ
            raw.sendall(os.urandom(4096))
        reasons = [("neither a node's nor the clients'",),  # the stranger's key
                   ("CURVE decryption failed",),  # the fooled client
                   # the plain socket: libzmq sees the mismatch, or the peer that saw it leave
                   ("disagree on CURVE", "went away mid-handshake")]
        assert wait_for(lambda: all(any(r in node_log(cluster, "n2") for r in either)
                                    for either in reasons))
        counts = refusals(cluster, "n2")
        assert counts["unknown key"] >= 1 and counts["handshake failed"] >= 2
        for sock in socks:
            sock.close(0)
        # CURVE lets the clients' keys in; without the secret, the signature does not
        inside = attacker(cluster, "n2", "no-secret", clients, n2.public_key)
        inside.send_multipart(Signer(b"not the secret".ljust(32), "no-secret").pack("submit", evil))
        assert wait_for(lambda: refusals(cluster, "n2").get("bad signature", 0) >= 1)
        out = cluster.run_file(write(tmp_path, "read.py", READ_REFS), timeout=30)
        assert out.stdout == "alpha n2 beta n3\n" and out.error is None
        assert times_unpickled(proof) == 0
        assert "signature does not match" in node_log(cluster, "n2")


def node_alone(path, name: str = "n1") -> subprocess.CompletedProcess:
    """`swarm-node` in a process, expected to exit at start."""
    return subprocess.run([sys.executable, "-m", "swarm.node_main", "--config", str(path),
                           "--name", name], env=dict(os.environ, PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=60)


def test_a_cluster_file_others_can_read_is_refused(tmp_path):
    path = str(tmp_path / "cluster.toml")
    local_config(1, tmp_path).save(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        ClusterConfig.load(path)
    done = node_alone(path)
    assert done.returncode == 2 and "readable or writable by others" in done.stderr
    done = swarm_cli("status", "--cluster", path)
    assert done.returncode == 2 and "chmod 600" in done.stderr
    os.chmod(path, 0o600)
    assert ClusterConfig.load(path).names == ["n1"]


def test_without_keys_a_node_listens_on_loopback_only(tmp_path):
    path = str(tmp_path / "cluster.toml")
    config = local_config(1, tmp_path)
    config.nodes["n1"].endpoint = f"tcp://0.0.0.0:{free_port()}"  # every interface
    config.save(path)
    done = node_alone(path)
    assert done.returncode == 2
    assert "refusing to listen on tcp://0.0.0.0" in done.stderr and "swarm keys" in done.stderr
    assert swarm_cli("keys", "--cluster", path).returncode == 0
    config = ClusterConfig.load(path)
    assert config.curve
    procs = start_nodes(config)
    cluster = Cluster(config)
    try:
        cluster.wait_ready()
        out = cluster.run_file(write(tmp_path, "here.py",
                                     "from swarm import here\nprint(here())\n"), timeout=30)
        assert out.stdout == "n1\n"
    finally:
        cluster.shutdown()  # stops the nodes (close() alone would not)
        cluster.close()
        procs["n1"].wait(timeout=20)


@pytest.fixture
def cli_in(tmp_path):
    """`swarm ARGS...` in tmp_path; afterwards SIGKILLs the nodes pid files still name."""
    def run(*args: str) -> subprocess.CompletedProcess:
        return swarm_cli(*args, cwd=tmp_path)

    yield run
    for pid_file in tmp_path.rglob("*.pid"):
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_swarm_keys_turns_a_cluster_to_curve(cli_in, tmp_path):
    hello = os.path.join(ROOT, "examples", "hello.py")
    for command in (["up", "--dir", "c"], ["down", "--dir", "c"], ["keys", "--dir", "c"],
                    ["up", "--dir", "c"]):
        done = cli_in(*command)
        assert done.returncode == 0, done.stdout + done.stderr
    path = tmp_path / "c" / "cluster.toml"
    text = path.read_text()
    assert text.count("public_key") == 4 and "[client]" in text  # three nodes, the clients
    assert os.stat(path).st_mode & 0o777 == 0o600
    done = cli_in("run", "--dir", "c", hello)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[2] == "stingless bee read on n3"
    done = cli_in("keys", "--dir", "c")
    assert done.returncode == 2 and "has CURVE keys already" in done.stderr
    assert cli_in("down", "--dir", "c").returncode == 0
