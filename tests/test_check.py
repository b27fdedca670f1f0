"""`swarm check` run as a user runs it: a real process, exit codes, file:line:col."""


from helpers import swarm_cli, write

PROBLEMS = """
import functools
import threading
from swarm import checkpoint

def key(x):
    checkpoint()
    return x

def main(xs, path):
    f = open(path)
    lock = threading.Lock()
    ys = sorted(xs, key=key)
    zs = list(map(key, xs))
    return ys, zs, f, lock

@functools.lru_cache
def cached(n):
    return key(n)

class Config:
    value = key(3)
"""


def swarm_check(path):
    return swarm_cli("check", path, timeout=60)


def test_check_lists_every_problem_with_file_line_col(tmp_path):
    path = write(tmp_path, "prog.py", PROBLEMS)
    done = swarm_check(path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    expected = {11: "open file", 12: "lock", 13: "sorted(key=...)", 14: "map()",
                17: "functools.lru_cache", 22: "class Config"}
    for line, words in expected.items():
        assert any(f"{path}:{line}:" in ln and words in ln for ln in lines), (line, lines)
    assert len(lines) == len(expected)


def test_check_reports_compile_errors(tmp_path):
    path = write(tmp_path, "bad.py", "def f(:\n")
    done = swarm_check(path)
    assert done.returncode == 1 and f"{path}:1:" in done.stdout


def test_check_clean_program(tmp_path):
    path = write(tmp_path, "ok.py", "from swarm import checkpoint\ncheckpoint()\n")
    done = swarm_check(path)
    assert done.returncode == 0 and "no problems found" in done.stdout


FINE = """
import dataclasses
import enum
from dataclasses import dataclass, field
from swarm import checkpoint

class Color(enum.Enum):
    RED = 1

@dataclass
class Box:
    items: list = field(default_factory=list)

def read_config(path):
    with open(path) as f:
        return f.read()

def best(rows):
    return max(rows, key=lambda r: r[1])

def main():
    checkpoint()
    print(best([(1, 2), (3, 1)]), Color.RED, Box(), len(read_config(__file__)) > 0)

main()
"""


def test_check_passes_what_migrates(tmp_path):
    """No false alarms (issue 15, class 13): a key function that never suspends, a file open
    in a helper that touches no remote data, a dataclass field(), an Enum at the top level -
    and the program does migrate at every point, in other processes."""
    path = write(tmp_path, "fine.py", FINE)
    done = swarm_check(path)
    assert done.returncode == 0 and "no problems found" in done.stdout, done.stdout
    moved = swarm_cli("migrate", "-p", "--strict", path, timeout=120)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == "(1, 2) Color.RED Box(items=[]) True"
    assert "1 migrations" in moved.stderr and "not migrating" not in moved.stderr


STILL_PROBLEMS = """
from swarm import checkpoint

def slow_key(r):
    checkpoint()
    return r[1]

def best(rows):
    return max(rows, key=slow_key)

def dump(path):
    with open(path, "w") as f:
        best([(1, 2)])
        f.write("x")

class Table:
    size = best([(1, 2)])
"""


def test_check_still_reports_what_suspends(tmp_path):
    path = write(tmp_path, "prog.py", STILL_PROBLEMS)
    done = swarm_check(path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    expected = {9: "max(key=...)", 12: "open file", 17: "class Table"}
    for line, words in expected.items():
        assert any(f"{path}:{line}:" in ln and words in ln for ln in lines), (line, lines)
    assert len(lines) == len(expected), lines
