"""Every `swarm` command that takes a file says in one line what is wrong with it - missing,
a directory, not text in its encoding - as `python FILE` does, with its exit status; never a
traceback. Run as a user runs them: `swarm` processes, no node needed."""

import os
import subprocess
import sys

import pytest
from helpers import swarm_cli


def python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60)


def one_line(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    return done.stderr.rstrip("\n")


@pytest.mark.parametrize("command", ["check", "migrate"])
def test_check_and_migrate_of_a_file_they_cannot_open_or_decode(tmp_path, command):
    missing, folder = str(tmp_path / "nonexist.py"), str(tmp_path)
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"x = 1\ny = '\xe9t\xe9'\nprint(y)\n")  # latin-1, no coding line
    done = swarm_cli(command, missing)
    assert done.returncode == python(missing).returncode == 2
    assert one_line(done) == (f"swarm {command}: can't open file {missing!r}: [Errno 2] No "
                              f"such file or directory")
    done = swarm_cli(command, folder)
    assert done.returncode == 2
    assert one_line(done) == f"swarm {command}: can't open file {folder!r}: [Errno 21] Is a " \
                             f"directory"
    done, theirs = swarm_cli(command, str(latin)), python(str(latin))
    assert done.returncode == theirs.returncode == 1
    assert one_line(done) == theirs.stderr.rstrip("\n") == (
        f"SyntaxError: Non-UTF-8 code starting with '\\xe9' in file {latin} on line 2, but "
        f"no encoding declared; see https://peps.python.org/pep-0263/ for details")


def test_a_latin1_file_with_a_coding_line_is_checked_and_migrated(tmp_path):
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nprint('\xe9t\xe9')\n")
    done = swarm_cli("check", str(latin))
    assert done.returncode == 0 and "no problems found" in done.stdout, done.stderr
    done = swarm_cli("migrate", str(latin))
    assert (done.returncode, done.stdout) == (0, "\u00e9t\u00e9\n"), done.stderr


def test_a_skywriting_script_or_include_that_is_not_utf8_is_located(tmp_path):
    bad = tmp_path / "bad.sw"
    bad.write_bytes(b'x = 1;\ny = "\xe9";\nreturn y;\n')
    (tmp_path / "main.sw").write_text('include "bad.sw";\nreturn 1;\n')
    for script in ("bad.sw", "main.sw"):  # the script itself, a file it includes
        done = swarm_cli("run", str(tmp_path / script))
        assert done.returncode == 1
        assert one_line(done) == (f"{bad}:2:6: not UTF-8 text (byte 0xe9): a Skywriting "
                                  f"script is read as UTF-8")


def test_a_cluster_file_that_is_not_utf8_or_is_a_directory(tmp_path):
    script = tmp_path / "p.py"
    script.write_text("print(1)\n")
    bad = tmp_path / "cluster.toml"
    bad.write_bytes(b"[nodes.n1]\nendpoint = '\xe9'\n")
    os.chmod(bad, 0o600)
    for args in (["ps", "--cluster", str(bad)], ["run", "--cluster", str(bad), str(script)]):
        done = swarm_cli(*args)
        assert done.returncode == 2
        assert one_line(done) == (f"swarm: {bad} is not valid TOML: not UTF-8 text (byte 0xe9 "
                                  f"on line 2)")
    done = swarm_cli("status", "--cluster", str(tmp_path))
    assert done.returncode == 2
    assert one_line(done) == f"swarm: cannot read the cluster file {tmp_path}: Is a directory"


def test_a_file_for_a_directory_and_a_plot_with_nowhere_to_go(tmp_path):
    script = tmp_path / "p.py"
    script.write_text("print(1)\n")
    done = swarm_cli("up", "--dir", str(script))
    assert done.returncode == 1
    assert one_line(done) == f"swarm up: cannot use {script} as the cluster's directory: it " \
                             f"is a file"
    plot = tmp_path / "none" / "plan.png"
    done = swarm_cli("place", "--plot", str(plot), "--cluster", str(tmp_path / "c.toml"))
    assert done.returncode == 2  # said before any node is asked
    assert one_line(done) == f"swarm place: cannot write the plot {plot}: no directory " \
                             f"{tmp_path / 'none'}"
