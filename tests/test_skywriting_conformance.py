"""The Skywriting conformance suite (tests/skywriting/cases, format in its README.md), run
on one three-node cluster of real swarm-node processes, as `swarm run` would run each script."""

import os
import re

import pytest

import swarm
from swarm.skywriting import SkywritingError
from swarm.skywriting.values import to_json

CASES = os.path.join(os.path.dirname(__file__), "skywriting", "cases")
NAMES = sorted(f[:-3] for f in os.listdir(CASES) if f.endswith(".sw"))


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def _sidecar(name: str, ext: str) -> list[str]:
    path = os.path.join(CASES, name + ext)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").replace("@cases/", CASES + "/") for line in f if line.strip()]


def run_case(cluster, name: str) -> tuple[str, str | None]:
    """(stdout as `swarm run` prints it, error text or None)."""
    argv = " ".join(_sidecar(name, ".args")).split()
    env = dict(line.split("=", 1) for line in _sidecar(name, ".env"))
    packages = {k: os.path.join(CASES, v) for k, v in
                (line.split("=", 1) for line in _sidecar(name, ".pkg"))}
    try:
        out = cluster.run_file(os.path.join(CASES, name + ".sw"), argv=argv, env=env,
                               packages=packages, timeout=120)
    except SkywritingError as e:
        return "", str(e)
    if out.error:
        return out.stdout, out.error
    return out.stdout + to_json(out.value) + "\n", None


@pytest.mark.parametrize("name", NAMES)
def test_case(cluster, name):
    stdout, error = run_case(cluster, name)
    expected_err = _sidecar(name, ".err")
    if expected_err:
        assert error is not None, f"expected an error, got output {stdout!r}"
        substring, location = expected_err[0], expected_err[1]
        assert substring.lower() in error.lower(), error
        assert re.search(rf"\.sw:{re.escape(location)}\b", error), error
    else:
        assert error is None, error
        with open(os.path.join(CASES, name + ".out")) as f:
            assert stdout == f.read()
