"""`swarm sw`, the Skywriting console, as a user runs it: a real process reading entries from
its standard input, against a running three-node cluster."""

import os
import subprocess

import pytest
from helpers import swarm_cli

import swarm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SESSION = """\
x = 5
function fib(n) {
  if (n < 2) { return n; }
  return *spawn(fib, [n - 1]) + *spawn(fib, [n - 2]);
}
f = spawn(fib, [10]);
print("x is " + str(x));
*f + x
y = [x, 2]; y += 3;
z = nope + 1;
y
include "mapreduce";
map(function(a) { return a + 1; }, y)
d = {"sum": x + *f, "fib": fib}; d
w = ;
"""


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def console(cluster, tmp_path, text: str) -> subprocess.CompletedProcess:
    return swarm_cli("sw", "--cluster", cluster.config.path, input=text, cwd=tmp_path)


def test_a_console_session_keeps_variables_functions_and_futures(cluster, tmp_path):
    done = console(cluster, tmp_path, SESSION)
    # a function and a future made in one entry are used in later ones (the future forced
    # after the spawning program ended); an entry that fails leaves the session as it was
    assert done.stdout.splitlines() == [
        "x is 5", "60", "[5, 2, 3]", "[6, 3, 4]", '{"sum": 60, "fib": <function fib>}']
    errors = done.stderr.splitlines()
    assert errors[0] == "console-7.sw:1:5: unbound name 'nope'"
    assert errors[1].startswith("console-12.sw:1:5: ")
    assert done.returncode == 1  # the last entry failed


def test_an_unfinished_entry_at_the_end_is_reported(cluster, tmp_path):
    done = console(cluster, tmp_path, "function f(a) {\n  return a;\n")
    assert done.stdout == ""
    assert done.stderr.strip() == "console-1.sw:2:12: expected '}', found end of file"
    assert done.returncode == 1
