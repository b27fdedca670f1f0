"""Compiled modules kept on disk (swarm/compiler/diskcache.py): a module compiled once is
loaded, the same, by the next process; a changed source, a damaged file or a directory that
cannot be written never gives a wrong module."""

import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import fill

from swarm.compiler import diskcache
from swarm.compiler.pipeline import compile_module
from swarm.driver import run_migrating, run_native

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"


def _same(a, b) -> None:
    assert marshal.dumps(a.code) == marshal.dumps(b.code)
    assert {p: marshal.dumps(c) for p, c in a.all_resumers().items()} == \
        {p: marshal.dumps(c) for p, c in b.all_resumers().items()}
    assert a.points == b.points and a.all_live_temps() == b.all_live_temps()
    assert a.temp_names == b.temp_names and a.callees == b.callees


def test_a_saved_module_loads_as_it_was_compiled(tmp_path, monkeypatch):
    monkeypatch.setenv("SWARM_COMPILE_CACHE", str(tmp_path))
    path = CORPUS / "89_guarded_resumers.py"
    source = path.read_text()
    compiled = compile_module(source, str(path), "__main__", resumers=True)
    diskcache.save(compiled)
    files = list(tmp_path.glob("*.bin"))
    assert len(files) == 1
    loaded = diskcache.load(source, compiled.source_hash, str(path), "__main__")
    _same(loaded, compiled)
    # a function's points share one resumer, on disk too
    assert len({id(c) for c in loaded.resumers.values()}) < len(loaded.resumers)
    # another version of the file is not taken for this one, and replaces it when saved
    changed = source + "\nprint('changed')\n"
    from swarm.compiler.compiled import source_hash
    assert diskcache.load(changed, source_hash(changed), str(path), "__main__") is None
    diskcache.save(compile_module(changed, str(path), "__main__"))
    assert len(list(tmp_path.glob("*.bin"))) == 1
    assert diskcache.load(source, compiled.source_hash, str(path), "__main__") is None


def test_resumers_built_when_first_needed_are_those_compiled_with_the_module(tmp_path,
                                                                            monkeypatch):
    """A module is compiled without its resumers; the first resume builds them by compiling
    it again (pipeline.build_resumers). For every corpus program: the module's code is the
    same either way, the resumers built later are those of a compile that made them at once,
    and once built they are kept on disk for the next process."""
    monkeypatch.setenv("SWARM_COMPILE_CACHE", "off")
    for path in sorted(CORPUS.glob("*.py"))[::4]:  # (a quarter: seconds, not tens)
        source = path.read_text()
        lazy = compile_module(source, str(path), "m")
        assert lazy.resumers is None and lazy.live_temps is None
        full = compile_module(source, str(path), "m", resumers=True)
        # the live temps found later are those of a compile that found them at once
        assert compile_module(source, str(path), "m").all_live_temps() == full.live_temps
        # (code objects compare by their bytecode, constants, names and tables; marshal's
        # bytes also depend on which strings other live objects share)
        assert lazy.code == full.code, path.name
        assert lazy.sites == full.sites, path.name
        assert lazy.points == full.points and lazy.callees == full.callees, path.name
        assert lazy.all_resumers() == full.resumers, path.name
    monkeypatch.setenv("SWARM_COMPILE_CACHE", str(tmp_path))
    path = CORPUS / "89_guarded_resumers.py"
    source = path.read_text()
    lazy = compile_module(source, str(path), "m")
    diskcache.save(lazy)
    loaded = diskcache.load(source, lazy.source_hash, str(path), "m")
    assert loaded.resumers is None
    from swarm.compiler import registry  # noqa: F401 - it keeps resumers on disk once built
    loaded.all_resumers()
    again = diskcache.load(source, lazy.source_hash, str(path), "m")
    assert again.resumers is not None
    assert again.resumers == compile_module(source, str(path), "m", resumers=True).resumers


def test_a_damaged_file_or_an_unwritable_directory_is_compiled_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SWARM_COMPILE_CACHE", str(tmp_path))
    path = CORPUS / "10_for_else.py"
    source = path.read_text()
    compiled = compile_module(source, str(path), "m")
    diskcache.save(compiled)
    (bin_file,) = tmp_path.glob("*.bin")
    bin_file.write_bytes(bin_file.read_bytes()[:100])
    assert diskcache.load(source, compiled.source_hash, str(path), "m") is None
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("SWARM_COMPILE_CACHE", str(blocked / "below"))
    diskcache.save(compiled)  # nothing to write to: nothing happens
    assert diskcache.load(source, compiled.source_hash, str(path), "m") is None


def test_programs_run_the_same_from_the_cache_in_new_processes(tmp_path):
    """The driver's worker processes load the modules the first run saved."""
    env = dict(os.environ, SWARM_COMPILE_CACHE=str(tmp_path))
    program = CORPUS / "61_yield_from.py"
    script = ("import sys; from swarm.driver import run_migrating; "
              "o = run_migrating(sys.argv[1], subprocess=True); "
              "print(repr((o.stdout, o.result, o.error)))")
    def run():
        return subprocess.run([sys.executable, "-c", script, str(program)], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=300)

    runs = [run()]
    saved = {f.name: f.stat().st_mtime_ns for f in tmp_path.glob("*.bin")}
    assert saved, runs[0].stderr
    runs.append(run())
    assert all(r.returncode == 0 for r in runs), runs[0].stderr + runs[1].stderr
    # the second run loaded what the first saved (a module compiled again is saved again)
    assert {f.name: f.stat().st_mtime_ns for f in tmp_path.glob("*.bin")} == saved
    native = run_native(str(program))
    assert runs[0].stdout == runs[1].stdout == repr((native.stdout, native.result, None)) + "\n"
    assert run_migrating(str(program)).stdout == native.stdout


def test_a_module_whose_set_constants_marshal_reorders_is_not_saved(tmp_path, monkeypatch):
    """`for n in {5, 3, 9, 1}` iterates 9, 3, 5, 1 as compiled and 1, 3, 5, 9 once through
    marshal: such a module is compiled again each time, never loaded in another order."""
    monkeypatch.setenv("SWARM_COMPILE_CACHE", str(tmp_path))
    source = "out = []\nfor n in {5, 3, 9, 1}:\n    out.append(n)\n"
    compiled = compile_module(source, "sets.py", "sets")
    diskcache.save(compiled)
    assert not list(tmp_path.glob("*.bin"))
    ordered = compile_module("out = [n for n in (5, 3, 9, 1)]\n", "tuples.py", "tuples")
    diskcache.save(ordered)
    assert len(list(tmp_path.glob("*.bin"))) == 1


# ---- a cache directory that cannot be written: said once, on stderr -------------------------

MAIN = "import helper\nprint(helper.twice(21))\n"
HELPER = "def twice(x):\n    return 2 * x\n"
RUN = ("import sys; from swarm.driver import run_migrating; o = run_migrating(sys.argv[1]); "
       "print(repr((o.stdout, o.error)))")


def _run_with_cache(tmp_path, cache) -> subprocess.CompletedProcess:
    """A program of two modules, compiled in a new process whose cache is `cache`."""
    (tmp_path / "main.py").write_text(MAIN)
    (tmp_path / "helper.py").write_text(HELPER)
    env = dict(os.environ, SWARM_COMPILE_CACHE=str(cache))
    return subprocess.run([sys.executable, "-c", RUN, str(tmp_path / "main.py")], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def _told_once(run: subprocess.CompletedProcess, cache, error: str) -> None:
    assert run.returncode == 0, run.stderr
    assert run.stdout == repr(("42\n", None)) + "\n"  # the program runs, its output intact
    lines = [line for line in run.stderr.splitlines() if "compile cache" in line]
    assert lines == [f"swarm: compiled modules are not kept: the compile cache {cache} cannot "
                     f"be written ({error}); they are compiled again in each process (set "
                     f"SWARM_COMPILE_CACHE to a writable directory, or to off)"], run.stderr


def test_a_cache_below_a_file_is_told_once_and_the_program_runs(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    cache = blocked / "below"
    _told_once(_run_with_cache(tmp_path, cache), cache, "NotADirectoryError: Not a directory")
    assert blocked.read_text() == "not a directory"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs (needs root)")
@pytest.mark.parametrize("case", ["read-only", "full"])
def test_a_read_only_or_full_cache_is_told_once_and_the_program_runs(tmp_path, case):
    mount = tmp_path / "disk"
    mount.mkdir()
    options = "ro,size=1m" if case == "read-only" else "size=64k"
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], check=True)
    try:
        if case == "full":
            (mount / "cache").mkdir()
            fill(mount / "filler")  # every block taken
        cache = mount / "cache"
        error = "OSError: Read-only file system" if case == "read-only" else \
            "OSError: No space left on device"
        _told_once(_run_with_cache(tmp_path, cache), cache, error)
        assert not cache.exists() or not list(cache.glob("*"))  # (no file left half written)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
