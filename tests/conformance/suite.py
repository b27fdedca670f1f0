"""The pyperformance suite under migration: `make conformance` (python -m tests.conformance).

Every pure-Python benchmark of the installed `pyperformance` (those without a requirements.txt:
no third-party package), and each variant its .toml files name (`extra_opts`), is
- copied with its data into a work directory, beside a stand-in for pyperf (pyperf_shim.py);
- instrumented (instrument.py): a checkpoint at the entry of every function and loop body,
  its sizes made small (SIZES below);
- run natively (`python run_benchmark.py`) and under `swarm migrate -p run_benchmark.py`
  (every migration resumes in another OS process), and the two outputs compared.

A benchmark is `ok` when the migrated run prints what the native run printed and both
succeed (the table also counts the places where it went on without migrating - C code
calling back, a value that does not pickle - each told on stderr, and names them); `refused` when the migrated run stops with the reason named (a CompileError or a
NotMigratable) and the benchmark is in REFUSED with that reason; anything else - a different
output, a crash, a hang, a refusal not listed - is a failure.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from tests.conformance.instrument import instrument

HERE = Path(__file__).parent
ROOT = HERE.parent.parent

#: smaller sizes for the benchmarks whose defaults take long (module or main-block constants)
SIZES: dict[str, dict] = {
    "chaos": {"DEFAULT_ITERATIONS": 300, "DEFAULT_WIDTH": 32, "DEFAULT_HEIGHT": 32},
    "fannkuch": {"DEFAULT_ARG": 6},
    "float": {"POINTS": 2000},
    "go": {"GAMES": 2},
    "hexiom": {"DEFAULT_LEVEL": 2},
    "nbody": {"DEFAULT_ITERATIONS": 200},
    "nqueens": {"queen_count": 6},
    "deltablue": {"n": 20},
    "pidigits": {"DEFAULT_DIGITS": 200},
    "raytrace": {"DEFAULT_WIDTH": 12, "DEFAULT_HEIGHT": 12},
    "regex_dna": {"DEFAULT_INIT_LEN": 5000},
    "spectral_norm": {"DEFAULT_N": 20},
    "barnes_hut": {"DEFAULT_ITERATIONS": 2, "DEFAULT_PARTICLES": 30},
    "pathlib": {"NUM_FILES": 48},  # a multiple of 4: its generator counts down by 4s
    "gc_traversal": {"N_LEVELS": 50},
    "concurrent_imap": {"count": 100},
}

#: benchmarks that are refused, by name, with the reason (docs/continuations.md lists them)
REFUSED: dict[str, str] = {
    "async_generators": "async code cannot be compiled for migration",
    "async_tree": "async code cannot be compiled for migration",
    "asyncio_tcp": "async code cannot be compiled for migration",
    "coroutines": "async code cannot be compiled for migration",
}

#: benchmarks that are not programs to migrate at all: they time another process's start
NOT_RUN: dict[str, str] = {
    "python_startup": "times the start of a new interpreter (bench_command): nothing to migrate",
    "2to3": "times `python -m lib2to3` in a child process (bench_command): nothing to migrate",
    "pickle_pure_python": "needs a process without the C pickle module; swarm itself uses it",
    "unpickle_pure_python": "needs a process without the C pickle module; swarm itself uses it",
}


@dataclasses.dataclass
class Program:
    name: str  # the benchmark's name in pyperformance (a variant's own name)
    base: str  # its directory, without bm_
    directory: Path
    argv: list[str]


@dataclasses.dataclass
class Outcome:
    program: Program
    status: str  # ok | refused | FAILED | not run
    native: str  # ok | error
    migrated: str  # ok | refused | error | hang | differs
    detail: str = ""
    migrations: int = 0
    seconds: float = 0.0
    fallbacks: int = 0  # places where it went on without migrating (told on stderr)


def benchmarks_dir() -> Path:
    import pyperformance

    return Path(pyperformance.__file__).parent / "data-files" / "benchmarks"


def discover(root: Path | None = None) -> list[Program]:
    root = root or benchmarks_dir()
    programs = []
    for d in sorted(root.glob("bm_*")):
        if (d / "requirements.txt").exists() or not (d / "run_benchmark.py").exists():
            continue  # needs a third-party package
        base = d.name[3:]
        variants = []
        for toml in sorted(d.glob("*.toml")):
            meta = tomllib.loads(toml.read_text()).get("tool", {}).get("pyperformance", {})
            if toml.name == "pyproject.toml" or "extra_opts" in meta:
                variants.append((meta.get("name", base), list(meta.get("extra_opts", []))))
        if not any(not opts for _, opts in variants) and len(variants) > 1:
            variants = [v for v in variants if v[1]]  # the plain one needs options
        for name, opts in variants or [(base, [])]:
            programs.append(Program(name, base, d, opts))
    return programs


def prepare(program: Program, work: Path, first: int, stride: int, cap: int) -> Path:
    """Copy the benchmark with its data into `work`, instrumented, beside the pyperf stand-in."""
    target = work / program.name
    shutil.copytree(program.directory, target, ignore=shutil.ignore_patterns("*.toml"))
    script = target / "run_benchmark.py"
    script.write_text(instrument(script.read_text(), str(script), SIZES.get(program.base)))
    shim = (HERE / "pyperf_shim.py").read_text()
    shim = shim.replace("ARGV = []", f"ARGV = {program.argv!r}", 1)
    shim = re.sub(r"^FIRST = \d+", f"FIRST = {first}", shim, count=1, flags=re.M)
    shim = re.sub(r"^STRIDE = \d+", f"STRIDE = {stride}", shim, count=1, flags=re.M)
    shim = re.sub(r"^CAP = \d+", f"CAP = {cap}", shim, count=1, flags=re.M)
    (target / "pyperf.py").write_text(shim)
    return script


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _run(cmd: list[str], cwd: Path, timeout: float):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           env=_env(), stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out, f"timed out after {timeout:.0f} s"


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def run_one(program: Program, work: Path, timeout: float = 600, first: int = 100,
            stride: int = 1000, cap: int = 300) -> Outcome:
    if program.base in NOT_RUN or program.name in NOT_RUN:
        reason = NOT_RUN.get(program.name) or NOT_RUN[program.base]
        return Outcome(program, "not run", "-", "-", reason)
    started = time.monotonic()
    script = prepare(program, work, first, stride, cap)
    python = sys.executable
    code, native_out, native_err = _run([python, script.name], script.parent, timeout)
    if code != 0:
        return Outcome(program, "FAILED", "error", "-", _last_line(native_err),
                       seconds=time.monotonic() - started)
    shutil.rmtree(script.parent)
    script = prepare(program, work, first, stride, cap)  # a fresh copy: no files left by it
    swarm = [python, "-m", "swarm.cli", "migrate", "-p", script.name]
    code, out, err = _run(swarm, script.parent, timeout)
    m = re.search(r"\[swarm\] (\d+) migrations(?:, (\d+) times not migrating)?", err)
    migrations = int(m.group(1)) if m else 0
    fallbacks = int(m.group(2) or 0) if m else 0
    seconds = time.monotonic() - started
    expected = REFUSED.get(program.name) or REFUSED.get(program.base)
    if code is None:
        return Outcome(program, "FAILED", "ok", "hang", err, migrations, seconds)
    if code == 0 and out == native_out:
        status = "FAILED" if expected else "ok"
        detail = "passes, but is listed as refused" if expected else ""
        if fallbacks:
            told = [ln for ln in err.splitlines() if ln.startswith("swarm: not migrating")]
            detail = (detail + " " + " | ".join(t[len("swarm: not migrating "):][:160]
                                                for t in told)).strip()
        return Outcome(program, status, "ok", "ok", detail, migrations, seconds, fallbacks)
    last = _last_line(err)
    if code != 0 and re.match(r"(swarm\.\S*\.)?(CompileError|NotMigratable)", last):
        ok = expected is not None and expected in last
        return Outcome(program, "refused" if ok else "FAILED", "ok", "refused", last,
                       migrations, seconds)
    if code == 0:
        return Outcome(program, "FAILED", "ok", "differs", _first_difference(native_out, out),
                       migrations, seconds)
    return Outcome(program, "FAILED", "ok", "error", last, migrations, seconds)


def _first_difference(expected: str, got: str) -> str:
    a, b = expected.splitlines(), got.splitlines()
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"line {i + 1}: native {x[:120]!r}, migrated {y[:120]!r}"
    return f"native printed {len(a)} lines, migrated {len(b)}"


def table(outcomes: list[Outcome]) -> str:
    rows = [("benchmark", "status", "native", "migrated", "hops", "not moved", "s", "detail")]
    for o in outcomes:
        rows.append((o.program.name, o.status, o.native, o.migrated, str(o.migrations),
                     str(o.fallbacks), f"{o.seconds:.0f}", o.detail))
    widths = [max(len(r[i]) for r in rows) for i in range(7)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:7], widths, strict=True)) + "  " + r[7]
             for r in rows]
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    lines.append("")
    lines.append(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="only these benchmarks (default: all)")
    p.add_argument("--first", type=int, default=100, help="migrate at the first N checkpoints")
    p.add_argument("--stride", type=int, default=1000, help="then at every N-th one")
    p.add_argument("--cap", type=int, default=300, help="at most N migrations a benchmark")
    p.add_argument("--timeout", type=float, default=600)
    args = p.parse_args(argv)
    programs = [pr for pr in discover()
                if not args.names or pr.name in args.names or pr.base in args.names]
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="swarm-conformance-") as tmp:
        for program in programs:
            o = run_one(program, Path(tmp), args.timeout, args.first, args.stride, args.cap)
            print(f"{o.program.name}: {o.status} ({o.migrated}, {o.migrations} migrations, "
                  f"{o.fallbacks} not moved, {o.seconds:.0f} s) {o.detail}", flush=True)
            outcomes.append(o)
    print()
    print(table(outcomes))
    return 0 if all(o.status in ("ok", "refused", "not run") for o in outcomes) else 1
