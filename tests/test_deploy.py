"""docs/deploy.md, run as written: its `deploy-test` blocks are extracted and run with bash -
the operator's commands here, each machine's in a network namespace of its own (three
machines), the client's from this namespace over a bridge - so the page and the test cannot
drift. The systemd unit and the container image must start a node with the same command as
the page. Needs root for the namespaces (CI runs as root)."""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys

import pytest
from helpers import ROOT
from test_multihost import hosts  # noqa: F401 - the fixture: three namespaces

from swarm.client import connect

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

DOC = os.path.join(ROOT, "docs", "deploy.md")
DEPLOY = os.path.join(ROOT, "deploy")
MACHINES = ["10.0.0.11", "10.0.0.12", "10.0.0.13"]  # the page's addresses


def blocks() -> dict[str, str]:
    """The page's `<!-- deploy-test: NAME -->` code blocks, by name."""
    with open(DOC) as f:
        text = f.read()
    found = dict(re.findall(r"<!-- deploy-test: (\w+) -->\n```\w*\n(.*?)```", text, re.S))
    assert set(found) == {"operator", "host", "client", "expect"}, sorted(found)
    return found


def node_command(host_block: str) -> list[str]:
    """The `swarm-node ...` line of the host block, as words."""
    line = next(x for x in host_block.splitlines() if x.startswith("swarm-node "))
    return shlex.split(line)


def shims(directory) -> dict:
    """`swarm` and `swarm-node` on the PATH, as installed entry points would be, running
    this checkout."""
    directory.mkdir()
    for name, module in (("swarm", "swarm.cli"), ("swarm-node", "swarm.node_main")):
        path = directory / name
        path.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n')
        path.chmod(0o755)
    return dict(os.environ, PATH=f"{directory}:{os.environ['PATH']}", PYTHONPATH=ROOT)


def test_the_deployment_page_runs_as_written_on_three_machines(hosts, tmp_path):  # noqa: F811
    page = blocks()
    env = shims(tmp_path / "bin")
    var = str(tmp_path / "var")

    def machine_text(block: str) -> str:
        for i, address in enumerate(MACHINES, 1):
            block = block.replace(address, hosts.address(i))
        return block.replace("/var/lib/swarm", var)

    operator = tmp_path / "operator"
    operator.mkdir()
    done = subprocess.run(["bash", "-e", "-c", machine_text(page["operator"])], cwd=operator,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "cluster.toml: new CURVE keys for n1, n2, n3, client, and a new secret" \
        in done.stdout
    cluster_dir = operator / "swarm-cluster"  # the block's own `cd`
    cluster_file = cluster_dir / "cluster.toml"
    assert oct(cluster_file.stat().st_mode & 0o777) == "0o600"

    procs, logs = [], []
    try:
        for i in range(1, 4):
            home = tmp_path / f"host{i}"  # what `scp` put on machine i
            home.mkdir()
            shutil.copy2(cluster_file, home / "cluster.toml")
            block = page["host"].replace("/etc/swarm", str(home / "etc")).replace(
                "--name n1", f"--name n{i}")
            log = open(tmp_path / f"n{i}.log", "w")
            logs.append(log)
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", hosts.names[i - 1], "bash", "-e", "-c", block],
                cwd=home, env=env, stdout=log, stderr=log, start_new_session=True))
        try:
            connect(str(cluster_file), timeout=90).close()
        except Exception:
            raise AssertionError("the nodes did not come up: " + "\n".join(
                (tmp_path / f"n{i}.log").read_text()[-2000:] for i in range(1, 4))) from None
        done = subprocess.run(["bash", "-e", "-c", page["client"]], cwd=cluster_dir, env=env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        expected = page["expect"].splitlines()
        assert lines[-len(expected):] == expected, done.stdout
        status = {row.split()[0]: row.split()[1] for row in lines[1:4]}
        assert set(status) == {"n1", "n2", "n3"} and "down" not in status.values(), lines
        # the nodes listened on their machines' addresses, not on this namespace's
        for i in range(1, 4):
            listening = subprocess.run(["ip", "netns", "exec", hosts.names[i - 1], "ss",
                                        "-ltn"], capture_output=True, text=True).stdout
            assert f"{hosts.address(i)}:5701" in listening, listening
    finally:
        for proc in procs:
            try:  # the block's bash and the swarm-node it started
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=30)
        for log in logs:
            log.close()


def test_the_systemd_unit_and_the_image_start_the_documented_command():
    command = node_command(blocks()["host"])
    assert command[:1] == ["swarm-node"] and command[-2:] == ["--name", "n1"]
    with open(os.path.join(DEPLOY, "systemd", "swarm-node@.service")) as f:
        unit = f.read()
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1)
    words = shlex.split(exec_start.replace("%i", "n1"))
    assert [os.path.basename(words[0]), *words[1:]] == command
    assert re.search(r"^User=swarm$", unit, re.M)

    with open(os.path.join(DEPLOY, "Dockerfile")) as f:
        dockerfile = f.read()
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.M).group(1))
    with open(os.path.join(DEPLOY, "compose", "compose.yaml")) as f:
        compose = f.read()
    for name in ("n1", "n2", "n3"):
        node = re.search(rf"^  {name}:\n(.*?)(?=^  \w)", compose, re.M | re.S).group(1)
        args = json.loads(re.search(r"command: (\[.*\])", node).group(1))
        assert entrypoint + args == command[:-1] + [name]
    with open(os.path.join(DEPLOY, "compose", "cluster.toml.example")) as f:
        example = f.read()
    assert re.findall(r'endpoint = "tcp://(n\d):5701"', example) == ["n1", "n2", "n3"]
