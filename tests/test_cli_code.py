"""What a program ships: the modules it imports (packages beside it too, from any directory),
never what it does not import, in any encoding Python accepts. Run with `swarm run` as a
process and compared with `python` on the same files."""

import subprocess
import sys
import textwrap

from helpers import swarm_cli, write

from swarm.program_files import program_sources


def python(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def make_project(root) -> str:
    """A script beside a package with a subpackage, relative imports, and a latin-1 module;
    the package's function touches a Ref on n2 when swarm runs it (a hop inside it)."""
    pkg = root / "bees"
    (pkg / "sub").mkdir(parents=True)
    write(pkg, "__init__.py", "from .words import HELLO\n\n\ndef greet(name):\n"
                              "    return HELLO + ' ' + name\n")
    write(pkg, "words.py", "HELLO = 'hi'\n")
    write(pkg / "sub", "__init__.py", "")
    write(pkg / "sub", "hive.py", textwrap.dedent('''\
        from ..words import HELLO


        def weigh(stock):
            from swarm import Ref
            from swarm.errors import NotOnANode
            try:
                r = Ref(stock, at="n2")          # the program hops to n2 here
            except NotOnANode:                   # plain python: no cluster
                return len(HELLO) + sum(stock)
            return len(HELLO) + sum(r.get())
        '''))
    (root / "legacy.py").write_bytes("# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n"
                                     .encode("latin-1"))
    (root / "broken.py").write_bytes(b"x = '\xe9'\n")  # not imported: never read
    write(root, "unused.py", "raise SystemExit('unused.py must not be imported')\n")
    return write(root, "main.py", textwrap.dedent('''\
        import sys

        import bees
        from bees.sub.hive import weigh
        from legacy import NAME

        print(bees.greet("bee"), weigh([1, 2, 3]), NAME, sys.argv[1:])
        '''))


def test_a_package_beside_the_script_works_from_another_directory(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    script = make_project(project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    theirs = python(script, "x", cwd=elsewhere)
    assert theirs.stdout == "hi bee 8 café ['x']\n", theirs.stderr
    ours = swarm_cli("run", "--nodes", "2", "--show-node", script, "x", cwd=elsewhere)
    assert (ours.returncode, ours.stdout) == (0, theirs.stdout), ours.stderr
    # the package's code was compiled and migrated with the program: it went to n2 and back
    assert ours.stderr == "[swarm] ran on n1 -> n2\n"


def test_only_what_the_script_imports_is_shipped(tmp_path):
    script = make_project(tmp_path)
    _, sources, modules = program_sources(script)
    assert sorted(modules) == ["bees", "bees.sub", "bees.sub.hive", "bees.words", "legacy"]
    files = sorted(filename for _, filename, _ in sources.values())
    assert str(tmp_path / "broken.py") not in files and str(tmp_path / "unused.py") not in files


def test_imports_inside_functions_and_try_blocks_are_found(tmp_path):
    write(tmp_path, "late.py", "VALUE = 'late'\n")
    write(tmp_path, "optional.py", "VALUE = 'optional'\n")
    script = write(tmp_path, "main.py", textwrap.dedent('''\
        def load():
            import late
            return late.VALUE


        try:
            from optional import VALUE
        except ImportError:
            VALUE = None
        print(load(), VALUE)
        '''))
    ours = swarm_cli("run", "--nodes", "1", script)
    assert (ours.returncode, ours.stdout) == (0, "late optional\n"), ours.stderr


def test_an_undecodable_module_that_is_imported_fails_as_python_says(tmp_path):
    (tmp_path / "legacy.py").write_bytes(b"NAME = 'caf\xe9'\n")  # latin-1, no coding cookie
    script = write(tmp_path, "main.py", "print('start')\nimport legacy\n")
    ours = swarm_cli("run", "--cluster", str(tmp_path / "none.toml"), script)
    theirs = python(script)
    assert ours.returncode == theirs.returncode == 1
    assert theirs.stderr.splitlines()[-1].startswith("SyntaxError:")
    # python's words for a script that does not decode (its import says less: no file name)
    assert ours.stdout == "" and ours.stderr.splitlines() == [(
        f"SyntaxError: Non-UTF-8 code starting with '\\xe9' in file {tmp_path / 'legacy.py'} "
        f"on line 1, but no encoding declared; see https://peps.python.org/pep-0263/ for "
        f"details")]


def test_a_latin1_script_with_a_coding_cookie_runs(tmp_path):
    script = tmp_path / "latin.py"
    script.write_bytes("# coding: latin-1\nprint('\xe9t\xe9', len('\xe9t\xe9'))\n"
                       .encode("latin-1"))
    ours = swarm_cli("run", "--nodes", "1", str(script))
    assert (ours.returncode, ours.stdout) == (0, python(str(script)).stdout) == (0, "été 3\n")


def test_a_module_shadowing_nothing_of_swarms_own(tmp_path):
    """A file named like the runtime's own packages beside the script is not shipped: the
    node's `swarm` is the one programs use (a program may not replace it)."""
    write(tmp_path, "swarm.py", "raise SystemExit('the user swarm.py was imported')\n")
    script = write(tmp_path, "main.py", "from swarm import here\nprint(here())\n")
    ours = swarm_cli("run", "--nodes", "1", script)
    assert (ours.returncode, ours.stdout) == (0, "n1\n"), ours.stderr
