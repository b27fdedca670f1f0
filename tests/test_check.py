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
