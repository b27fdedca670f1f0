"""`swarm run` behaves like `python` on the same script: arguments, exit status, tracebacks,
client mistakes. Each test runs `swarm run` as a process, the way a user does, and compares
what it prints and its exit status with `python SCRIPT` where Python can run the script."""

import re
import subprocess
import sys
import textwrap

from helpers import swarm_cli, write


def python(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def unlabelled(text: str) -> str:
    """A traceback of swarm's without its node labels (` [n2]` after a frame, the line
    `(raised on n2)` after the error): what python prints for the same error."""
    text = re.sub(r'^(  File "[^"]*", line \d+, in .*) \[n\d+\]$', r"\1", text, flags=re.M)
    return re.sub(r"^\(raised on n\d+\)\n", "", text, flags=re.M)


def same(a: subprocess.CompletedProcess, b: subprocess.CompletedProcess) -> None:
    """The same exit status, stdout and stderr (swarm's traceback without its node labels)."""
    assert (a.returncode, a.stdout, unlabelled(a.stderr)) == (b.returncode, b.stdout, b.stderr)


ARGV = "import sys\nfrom swarm import nodes\nprint(sys.argv[1:], len(nodes()))\n"


def test_everything_after_the_script_is_the_programs(tmp_path):
    script = write(tmp_path, "argv.py", ARGV)
    args = ["--n", "5", "a", "--tr", "--", "--nodes", "2", "--trace"]
    done = swarm_cli("run", "--nodes", "1", script, *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # --n is not taken for --nodes, nor --tr for --trace: one node, every argument the program's
    assert done.stdout == f"{args} 1\n"
    assert done.stderr == ""


def test_swarms_own_options_take_no_abbreviation(tmp_path):
    script = write(tmp_path, "argv.py", ARGV)
    done = swarm_cli("run", "--show", script, cwd=tmp_path)  # (of --show-node)
    assert done.returncode == 2 and "unrecognized option --show " in done.stderr


ARGPARSE = '''\
import argparse
import sys


def main():
    parser = argparse.ArgumentParser(description="Count the bees.")
    parser.add_argument("n", type=int, help="how many")
    parser.add_argument("--loud", action="store_true")
    args = parser.parse_args()
    print("bee " * args.n if args.loud else args.n)
    return 3 if args.n > 10 else 0


if __name__ == "__main__":
    sys.exit(main())
'''


def test_argparse_help_and_exit_codes_as_under_python(tmp_path):
    script = write(tmp_path, "bees.py", ARGPARSE)
    for args in (["--help"], ["2", "--loud"], ["11"]):
        ours = swarm_cli("run", "--nodes", "1", script, *args, cwd=tmp_path)
        same(ours, python(script, *args, cwd=tmp_path))
    assert swarm_cli("run", "--nodes", "1", script, "11", cwd=tmp_path).returncode == 3


def test_sys_exit_with_a_message_or_none(tmp_path):
    for call in ("sys.exit('no bees today')", "sys.exit()", "sys.exit(None)", "sys.exit(0)",
                 "raise SystemExit(256 + 7)", "sys.exit(False)"):
        script = write(tmp_path, "exits.py", f"import sys\nprint('before')\n{call}\n")
        same(swarm_cli("run", "--nodes", "1", script, cwd=tmp_path), python(script))


def test_an_uncaught_exception_shows_the_users_frames_only(tmp_path):
    script = write(tmp_path, "fails.py", textwrap.dedent('''\
        import json


        def parse(text):
            return json.loads(text)


        def main():
            print("parsing")
            try:
                parse("{bad")
            except ValueError as e:
                raise RuntimeError("no config") from e


        main()
        '''))
    ours = swarm_cli("run", "--nodes", "1", script, cwd=tmp_path)
    same(ours, python(script))  # the same lines: the library's frames too, not swarm's
    assert "swarm" not in ours.stderr


def test_a_traceback_after_hops_names_the_users_frames(tmp_path):
    script = write(tmp_path, "hops.py", textwrap.dedent('''\
        from swarm import Ref


        def lookup(r, key):
            return r.get()[key]


        stock = Ref({"honey": 3}, at="n2")
        print(lookup(stock, "honey"))
        print(lookup(stock, "wax"))
        '''))
    done = swarm_cli("run", "--nodes", "2", script, cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == "3\n"
    assert done.stderr == textwrap.dedent(f'''\
        Traceback (most recent call last):
          File "{script}", line 10, in <module> [n2]
            print(lookup(stock, "wax"))
                  ^^^^^^^^^^^^^^^^^^^^
          File "{script}", line 5, in lookup [n2]
            return r.get()[key]
                   ~~~~~~~^^^^^
        KeyError: 'wax'
        (raised on n2)
        ''')


def test_an_error_of_the_node_while_moving_is_shown_at_the_users_line(tmp_path):
    script = write(tmp_path, "nowhere.py", "from swarm import Ref\n\nr = Ref(1, at='n7')\n")
    done = swarm_cli("run", "--nodes", "2", script, cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[:3] == ["Traceback (most recent call last):",
                         f'  File "{script}", line 3, in <module> [n1]', "    r = Ref(1, at='n7')"]
    assert lines[-2:] == ["ValueError: the program wants node 'n7', not in the cluster",
                          "(raised on n1)"]
    assert "Capture" not in done.stderr


def test_a_syntax_error_is_reported_as_python_does_before_any_node_starts(tmp_path):
    script = write(tmp_path, "bad.py", "x = 1\ny = (1 +\nprint(x)\n")
    # a cluster file that does not exist: the error comes before any cluster is looked for
    ours = swarm_cli("run", "--cluster", str(tmp_path / "none.toml"), script, cwd=tmp_path)
    theirs = python(script)
    same(ours, theirs)
    assert "^" in ours.stderr and "line 2" in ours.stderr
    indent = write(tmp_path, "indent.py", "def f():\n    return 1\n  return 2\n")
    same(swarm_cli("run", "--nodes", "1", indent), python(indent))
    outside = write(tmp_path, "outside.py", "print('never')\nreturn 3\n")  # parses; compiles not
    same(swarm_cli("run", "--nodes", "1", outside), python(outside))


def test_a_syntax_error_in_an_imported_module_is_found_before_the_run(tmp_path):
    write(tmp_path, "helper.py", "def f(:\n    pass\n")
    script = write(tmp_path, "main.py", "import helper\n")
    ours = swarm_cli("run", "--cluster", str(tmp_path / "none.toml"), script)
    assert ours.returncode == 1
    assert ours.stderr.endswith("    def f(:\n          ^\nSyntaxError: invalid syntax\n")
    assert f'File "{tmp_path / "helper.py"}", line 1' in ours.stderr


def test_a_construct_swarm_cannot_migrate_is_located_before_the_run(tmp_path):
    script = write(tmp_path, "aio.py", "import asyncio\n\n\n  async def main():\n"
                                       "    await asyncio.sleep(0)\n".replace("\n  a", "\na"))
    done = swarm_cli("run", "--cluster", str(tmp_path / "none.toml"), script)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{script}:4:1: async code cannot be compiled for migration",
        "    async def main():", "    ^"]


def test_missing_file_and_directory_as_python_says(tmp_path):
    missing = str(tmp_path / "nonexist.py")
    ours, theirs = swarm_cli("run", missing), python(missing)
    assert ours.returncode == theirs.returncode == 2
    assert "can't open file" in ours.stderr and f"{missing!r}" in ours.stderr
    assert len(ours.stderr.splitlines()) == 1 and "Traceback" not in ours.stderr
    ours, theirs = swarm_cli("run", str(tmp_path)), python(str(tmp_path))
    assert ours.returncode == theirs.returncode == 1
    assert "can't find '__main__' module" in ours.stderr and len(ours.stderr.splitlines()) == 1


def test_a_directory_with_main_runs_like_python(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    write(app, "__main__.py", "import sys\nimport tools\nprint(tools.NAME, sys.argv[1:])\n")
    write(app, "tools.py", "NAME = 'tools'\n")
    same(swarm_cli("run", "--nodes", "1", str(app), "x"), python(str(app), "x"))


def test_timeout_gives_up_with_status_124(tmp_path):
    script = write(tmp_path, "slow.py", "import time\nprint('go')\ntime.sleep(30)\n")
    done = swarm_cli("run", "--nodes", "1", "--timeout", "1", script, timeout=60)
    assert done.returncode == 124
    assert "did not end within --timeout 1 s" in done.stderr


def test_version():
    done = swarm_cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("swarm 0.1.0 (Python 3.")


def test_result_of_an_id_that_cannot_be_one_fails_at_once(tmp_path):
    done = swarm_cli("result", "c123-nothex-1", "--cluster", str(tmp_path / "none.toml"),
                     timeout=30)
    assert done.returncode == 1
    assert done.stderr == ("swarm result: 'c123-nothex-1' is not a program id (ids look like "
                           "c12345-1a2b3c4d-1, as `swarm run --detach` prints them)\n")


def test_stdout_is_the_scripts_and_python_scripts_with_no_refs_match(tmp_path):
    script = write(tmp_path, "plain.py", textwrap.dedent('''\
        import sys
        total = 0
        for i in range(5):
            total += i
            print(i, total, end=" ")
        print()
        print("name", __name__, "file", __file__ == sys.argv[0] or __file__)
        '''))
    ours = swarm_cli("run", "--nodes", "1", script, cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.splitlines()[0] == python(script).stdout.splitlines()[0]
    assert ours.stdout.splitlines()[1].startswith("name __main__ file")


def test_env_option_needs_key_value(tmp_path):
    script = write(tmp_path, "s.sw", "return 1;\n")
    done = swarm_cli("run", "--env", "nokey", script)
    assert done.returncode == 1
    assert done.stderr == "swarm run: --env takes KEY=VALUE, not 'nokey'\n"


def test_run_help_says_options_come_first():
    done = swarm_cli("run", "--help")
    assert done.returncode == 0
    assert "swarm run [options] FILE [args...]" in done.stdout
    assert "--node NAME" in done.stdout


def test_run_on_the_node_named(tmp_path):
    script = write(tmp_path, "p.py", "print('hi')\n")
    done = swarm_cli("run", "--nodes", "2", "--node", "n2", "--show-node", script)
    assert (done.returncode, done.stdout, done.stderr) == (0, "hi\n", "[swarm] ran on n2\n")
    done = swarm_cli("run", "--node", "n9", script)  # said before any node starts
    assert (done.returncode, done.stderr) == (
        2, "swarm run: no node 'n9' among the 3 temporary nodes (n1..n3)\n")


def test_an_unknown_option_is_said_with_the_commands_usage(tmp_path):
    script = write(tmp_path, "p.py", "print('hi')\n")
    done = swarm_cli("run", "--nod", "n2", script)  # (its value is not taken for the script)
    assert done.returncode == 2 and done.stderr.splitlines() == [
        "usage: swarm run [options] FILE [args...]   (options after FILE are the program's)",
        "swarm run: error: unrecognized option --nod (swarm run's options come before FILE: "
        "swarm run --help lists them)"]
    done = swarm_cli("ps", "--bogus")
    assert done.returncode == 2 and done.stderr.splitlines()[-1] == (
        "swarm ps: error: unrecognized arguments: --bogus (swarm ps --help lists its options)")
