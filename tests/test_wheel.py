"""The built wheel, installed the way a user installs it: `pip install swarm-*.whl` into a fresh
virtual environment (the dependencies from the package registry), then the demo, a Python
program and a Skywriting script that includes the standard library, run from a directory that
is not the checkout and without the checkout on the path."""

import os
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

SKIP = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__",
                              ".pytest_cache", ".ruff_cache", ".hypothesis", ".swarm*",
                              "bench")


def run(*args, cwd, timeout=600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh venv holding only the wheel built from this checkout and its dependencies."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"  # a copy, so that the build leaves nothing in the checkout
    shutil.copytree(ROOT, source, ignore=SKIP)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"),
        str(source), cwd=tmp)
    wheels = list((tmp / "dist").glob("swarm-*.whl"))
    assert len(wheels) == 1, wheels
    env = tmp / "venv"
    run(sys.executable, "-m", "venv", str(env), cwd=tmp)
    run(str(env / "bin" / "python"), "-m", "pip", "install", "-q",
        "--disable-pip-version-check", str(wheels[0]), cwd=tmp)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return env, elsewhere


def test_the_package_comes_from_the_wheel(venv):
    env, elsewhere = venv
    done = run(str(env / "bin" / "python"), "-c",
               "import swarm, cluster, swarm.dashboard; print(swarm.__file__); "
               "print(cluster.__file__)", cwd=elsewhere)
    for line in done.stdout.split():
        assert line.startswith(str(env)), f"imported from outside the venv: {line}"
    package = os.path.dirname(done.stdout.split()[0])
    for data in ("skywriting/lib/mapreduce.sw", "dashboard/static/index.html",
                 "dashboard/static/app.js", "dashboard/static/vendor/cytoscape.min.js",
                 "dashboard/static/vendor/uPlot.iife.min.js"):
        assert os.path.isfile(os.path.join(package, data)), f"{data} is not in the wheel"


def test_the_demo_runs_from_another_directory(venv):
    env, elsewhere = venv
    done = run(str(env / "bin" / "python"), "-m", "swarm.demo", cwd=elsewhere, timeout=180)
    lines = done.stdout.splitlines()
    for bee, node in (("bumble bee", "n1"), ("honey bee", "n2"), ("stingless bee", "n3")):
        assert f"{bee} read on {node}" in lines, done.stdout
    assert "demo: the program ran on n1 -> n2 -> n3 -> n1 -> n2 -> n3" in lines


def test_swarm_run_of_python_and_skywriting_from_the_wheel(venv):
    env, elsewhere = venv
    (elsewhere / "where.py").write_text(
        "from swarm import Ref, here\nr = Ref(21, at='n3')\nprint(r.get() * 2, here())\n")
    done = run(str(env / "bin" / "swarm"), "run", "where.py", cwd=elsewhere, timeout=180)
    assert done.stdout.splitlines() == ["42 n3"]
    # the standard library (lib/*.sw) is package data of the wheel
    (elsewhere / "count.sw").write_text(
        'include "mapreduce";\n'
        'function double(x) { return x + x; }\n'
        'return map(double, [1, 2, 3]);\n')
    done = run(str(env / "bin" / "swarm"), "run", "count.sw", cwd=elsewhere, timeout=180)
    assert done.stdout.splitlines() == ["[2, 4, 6]"]
    shared = env / "share" / "swarm" / "examples"
    done = run(str(env / "bin" / "swarm"), "run", str(shared / "skywriting" / "fib.sw"), "10",
               cwd=elsewhere, timeout=180)
    assert done.stdout.splitlines() == ["55"]
