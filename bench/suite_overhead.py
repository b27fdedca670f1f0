"""The compiled/plain ratio over the pyperformance suite, and what compiling costs.

For every benchmark the conformance suite runs (tests/conformance/suite.py: the pure-Python
ones, not async, not the refused ones), at pyperformance's own sizes:

- run time: the benchmark runs in a process of its own, plain (`python -m bench.suite_overhead
  --plain run_benchmark.py`) and compiled by swarm (`... --compiled run_benchmark.py`: every
  function and the top level compiled, no checkpoints, never captured). Both freeze the heap
  they start with before the benchmark's module runs, as a node does (swarm/heap.py): the
  collections of gc_collect and the like then traverse the benchmark's objects only, in both,
  and the ratio is that of the compiled code alone (unfrozen, a plain process's own start-up
  objects made gc_collect's full collections 4x as long as a node's). A stand-in for pyperf
  times each benchmark call in the process's CPU time (`pyperf.perf_counter` is
  time.process_time: on a shared machine the wall clock also counts the turns other
  processes take; loops calibrated on the plain run to about 0.2 s). Plain and compiled runs alternate, REPEATS times (and MORE_REPEATS more where those leave the ratio in doubt: above 1.1x, or one side's runs spread by more than a tenth); the least time of each is kept.
- compile time: swarm's compile_source of the benchmark's source against CPython's compile()
  of the same source (best of 3 each, CPU time, no cache); and loading it from the disk cache
  (swarm/compiler/diskcache.py) against the same compile();
- code size: the marshalled size of everything compiled (module code and resumers) against
  the module code CPython makes (`--compile` also gives the module's code alone: what a
  process holds until one of its frames is resumed - resumers are built then).

`--compile [names]` measures only what compiling costs (no run times).

Noise: the machine is shared; the least of several runs is the figure least disturbed by
other load (the ratio of two minima). `python -m bench.suite_overhead [names]` runs it alone.
"""

from __future__ import annotations

import marshal
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 3
MORE_REPEATS = 6  # where the first runs disagree (a ratio above MORE_ABOVE, or a spread)
MORE_ABOVE = 1.1
TARGET_S = 0.2

SHIM = '''"""pyperf stand-in for bench/suite_overhead.py: times each benchmark call in the
process's CPU time (the machine is shared: the wall clock counts other processes' turns)."""
import argparse
import os
import time

perf_counter = time.process_time
LOOPS = int(os.environ.get("SWARM_BENCH_LOOPS", "1"))
ARGV = []


def python_implementation():
    return "cpython"


def _record(name, seconds):
    print(f"TIME {name} {seconds!r}", flush=True)


class Runner:
    def __init__(self, *args, add_cmdline_args=None, **kwargs):
        self.metadata = {}
        self.argparser = argparse.ArgumentParser()
        self.args = None

    def parse_args(self, args=None):
        self.args = self.argparser.parse_args(ARGV)
        return self.args

    def bench_func(self, name, func, *args, inner_loops=None, metadata=None):
        start = perf_counter()
        for _ in range(LOOPS):
            func(*args)
        _record(name, perf_counter() - start)

    def bench_time_func(self, name, func, *args, inner_loops=None, metadata=None):
        _record(name, func(LOOPS, *args))

    def bench_async_func(self, *args, **kwargs):
        raise SystemExit("async")

    def bench_command(self, *args, **kwargs):
        raise SystemExit("command")
'''


def _programs(names=None):
    from tests.conformance.suite import NOT_RUN, REFUSED, discover

    out = []
    for p in discover():
        if p.base in REFUSED or p.name in REFUSED or p.base in NOT_RUN or p.name in NOT_RUN:
            continue
        if names and p.name not in names and p.base not in names:
            continue
        out.append(p)
    if not out:
        raise SystemExit(f"bench.suite_overhead: no benchmark named {' '.join(names or [])} "
                         "(the conformance suite's names: python -m tests.conformance --help)")
    return out


def _prepare(program, work: Path) -> Path:
    target = work / program.name
    shutil.copytree(program.directory, target, ignore=shutil.ignore_patterns("*.toml"))
    (target / "pyperf.py").write_text(SHIM.replace("ARGV = []", f"ARGV = {program.argv!r}"))
    return target / "run_benchmark.py"


def _run(cmd, cwd: Path, loops: int, timeout: float = 300) -> float | None:
    env = dict(os.environ, SWARM_BENCH_LOOPS=str(loops), PYTHONHASHSEED="0")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    times = [float(x) for x in re.findall(r"^TIME \S+ (\S+)$", p.stdout, re.M)]
    if p.returncode != 0 or not times:
        return None
    return sum(times)


def run_time_ratio(program, work: Path) -> dict:
    script = _prepare(program, work)
    plain_cmd = [sys.executable, "-m", "bench.suite_overhead", "--plain", script.name]
    compiled_cmd = [sys.executable, "-m", "bench.suite_overhead", "--compiled", script.name]
    once = _run(plain_cmd, script.parent, 1)
    if once is None:
        return {"error": "the plain run failed"}
    loops = max(1, min(100_000, math.ceil(TARGET_S / max(once, 1e-6))))
    plain, compiled = [], []
    for repeats in (REPEATS, MORE_REPEATS):
        for _ in range(repeats):
            plain.append(_run(plain_cmd, script.parent, loops))
            compiled.append(_run(compiled_cmd, script.parent, loops))
        if None in plain or None in compiled:
            return {"error": "a compiled run failed" if None in compiled
                    else "a plain run failed"}
        if not _unsettled(plain, compiled):
            break
    return {"loops": loops, "runs": len(plain), "plain_s": min(plain),
            "compiled_s": min(compiled), "ratio": min(compiled) / min(plain)}


def _unsettled(plain: list, compiled: list) -> bool:
    """Whether the first runs leave the ratio in doubt: above MORE_ABOVE, or runs of one side
    spread by more than a tenth (concurrent_imap's parent CPU time, which counts its pool's
    threads and forks, ranged over 0.108-0.150 s in eight plain runs of one hour) - then
    MORE_REPEATS more runs of each are taken before the least of each is kept."""
    spread = max(max(plain) / min(plain), max(compiled) / min(compiled))
    return min(compiled) / min(plain) > MORE_ABOVE or spread > 1.1


def compile_costs(program) -> dict:
    from swarm.compiler import compile_source, diskcache

    source = (program.directory / "run_benchmark.py").read_text()
    filename = str(program.directory / "run_benchmark.py")
    cpython = min(_timed(lambda: compile(source, filename, "exec")) for _ in range(3))
    os.environ["SWARM_COMPILE_CACHE"] = "off"  # the compiling itself, not the disk cache
    swarm_times = []
    compiled = None
    for i in range(3):  # a comment makes a new source hash: the compiler's cache is bypassed
        text = source + f"\n# bench {i} {time.time_ns()}\n"
        start = time.process_time()
        compiled = compile_source(text, filename, f"bench_{program.name}_{i}")
        swarm_times.append(time.process_time() - start)
    plain_size = len(marshal.dumps(compile(source, filename, "exec")))
    module_size = len(marshal.dumps(compiled.code))  # what runs until a frame is resumed
    resumers = {id(c): c for c in compiled.all_resumers().values()}  # one per function
    swarm_size = len(marshal.dumps(compiled.code)) + sum(
        len(marshal.dumps(c)) for c in resumers.values())
    with tempfile.TemporaryDirectory(prefix="swarm-bench-cache-") as cache:
        os.environ["SWARM_COMPILE_CACHE"] = cache
        diskcache.save(compiled)
        cached = min(_timed(lambda: diskcache.load(compiled.source, compiled.source_hash,
                                                   filename, compiled.name)) for _ in range(3))
        os.environ["SWARM_COMPILE_CACHE"] = "off"
    return {"compile_ratio": min(swarm_times) / cpython, "size_ratio": swarm_size / plain_size,
            "compile_s": min(swarm_times), "cpython_compile_s": cpython,
            "cached_ratio": cached / cpython, "module_size_ratio": module_size / plain_size}


def _timed(fn) -> float:
    """CPU time of fn() (compiling is CPU-bound; on a shared machine the wall clock also
    counts the time other processes held the CPU, which hits the long swarm compile more
    often than CPython's short one)."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def _geomean(values) -> float:
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def compile_only(names=None) -> dict:
    """Only what compiling costs (`--compile [names]`: seconds, not the run times' minutes)."""
    print(f"{'benchmark':<30}{'swarm ms':>9}{'compile':>9}{'cached':>8}{'size':>7}"
          f"{'module':>8}")
    rows = {}
    for program in _programs(names):
        row = rows[program.name] = compile_costs(program)
        print(f"{program.name:<30}{row['compile_s'] * 1000:>9.1f}{row['compile_ratio']:>8.1f}x"
              f"{row['cached_ratio']:>7.2f}x{row['size_ratio']:>6.1f}x"
              f"{row['module_size_ratio']:>7.1f}x", flush=True)
    summary = {"geomean_compile_ratio": _geomean(r["compile_ratio"] for r in rows.values()),
               "max_compile_ratio": max(r["compile_ratio"] for r in rows.values()),
               "geomean_size_ratio": _geomean(r["size_ratio"] for r in rows.values()),
               "max_size_ratio": max(r["size_ratio"] for r in rows.values()),
               "geomean_module_size_ratio": _geomean(r["module_size_ratio"]
                                                     for r in rows.values()),
               "compile_s": sum(r["compile_s"] for r in rows.values()),
               "cpython_compile_s": sum(r["cpython_compile_s"] for r in rows.values())}
    print(f"compile time: geometric mean {summary['geomean_compile_ratio']:.1f}x, max "
          f"{summary['max_compile_ratio']:.1f}x, {summary['compile_s']:.2f} s in all against "
          f"CPython's {summary['cpython_compile_s']:.3f} s; code size: geometric mean "
          f"{summary['geomean_size_ratio']:.1f}x, max {summary['max_size_ratio']:.1f}x "
          f"(the module alone, resumers not built: {summary['geomean_module_size_ratio']:.1f}x)")
    return summary


def main(names=None) -> dict:
    print(f"pyperformance suite, compiled vs plain (least of {REPEATS} runs each, "
          "alternating, own process each)")
    print(f"{'benchmark':<30}{'plain s':>9}{'compiled s':>11}{'ratio':>8}{'compile':>9}"
          f"{'cached':>8}{'size':>7}")
    rows: dict = {}
    with tempfile.TemporaryDirectory(prefix="swarm-suite-bench-") as tmp:
        for program in _programs(names):
            row = run_time_ratio(program, Path(tmp))
            row.update(compile_costs(program))
            rows[program.name] = row
            if "error" in row:
                print(f"{program.name:<30}  {row['error']}")
                continue
            print(f"{program.name:<30}{row['plain_s']:>9.3f}{row['compiled_s']:>11.3f}"
                  f"{row['ratio']:>7.2f}x{row['compile_ratio']:>8.1f}x"
                  f"{row['cached_ratio']:>7.2f}x{row['size_ratio']:>6.1f}x",
                  flush=True)
    timed = {n: r["ratio"] for n, r in rows.items() if "ratio" in r}
    summary = {"benchmarks": rows,
               "geomean_ratio": _geomean(timed.values()),
               "max_ratio": max(timed.values(), default=float("nan")),
               "max_benchmark": max(timed, key=timed.get) if timed else None,
               "geomean_compile_ratio": _geomean(r["compile_ratio"] for r in rows.values()),
               "max_compile_ratio": max(r["compile_ratio"] for r in rows.values()),
               "geomean_cached_ratio": _geomean(r["cached_ratio"] for r in rows.values()),
               "geomean_size_ratio": _geomean(r["size_ratio"] for r in rows.values()),
               "max_size_ratio": max(r["size_ratio"] for r in rows.values())}
    print(f"run time: geometric mean {summary['geomean_ratio']:.3f}x, max "
          f"{summary['max_ratio']:.2f}x ({summary['max_benchmark']}); compile time: geometric "
          f"mean {summary['geomean_compile_ratio']:.1f}x, max {summary['max_compile_ratio']:.1f}x"
          f" (from the disk cache {summary['geomean_cached_ratio']:.2f}x);"
          f" code size: geometric mean {summary['geomean_size_ratio']:.1f}x, max "
          f"{summary['max_size_ratio']:.1f}x")
    return summary


def run_compiled(path: str) -> None:
    """The compiled run: the script compiled by swarm and executed as __main__ (its
    neighbours, like the pyperf stand-in, compiled by the import hook), in a process set up as
    a node sets up its own: the runtime's start-up heap frozen (swarm/heap.py)."""
    from swarm import heap
    from swarm.compiler import compile_file
    from swarm.compiler.hook import user_modules
    from swarm.compiler.registry import new_module_instance

    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    sys.path.insert(0, directory)
    sys.argv = [path]
    with user_modules([directory]):
        compiled = compile_file(path, "__main__")
        module = new_module_instance("__main__", compiled.source_hash)
        sys.modules["__main__"] = module
        heap.freeze_startup()
        exec(compiled.code, module.__dict__)


def run_plain(path: str) -> None:
    """The plain run: the script run by CPython as __main__, in a process the size of the
    compiled run's - the runtime imported (a node holds it, and more), its start-up heap
    frozen as the compiled run's is - so the ratio is that of the compiled code alone. (Not
    imported, a fork-heavy benchmark pays for the size: concurrent_imap's `Pool` forks a
    14 MB process plain and a 30 MB one with the runtime, 0.28 ms against 0.59 ms a fork and
    the pages its parent copies after each; its bench_mp_pool took 1.3-1.5x as long in the
    compiled run for that alone - the plain run with the runtime imported took as long.)"""
    import gc
    import runpy

    import swarm  # noqa: F401  (the runtime, as the compiled run has it)

    path = os.path.abspath(path)
    sys.path.insert(0, os.path.dirname(path))
    sys.argv = [path]
    gc.collect()
    gc.freeze()
    runpy.run_path(path, run_name="__main__")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
    elif len(sys.argv) > 2 and sys.argv[1] == "--compiled":
        run_compiled(sys.argv[2])
    elif len(sys.argv) > 2 and sys.argv[1] == "--plain":
        run_plain(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "--compile":
        compile_only(sys.argv[2:] or None)
    else:
        main(sys.argv[1:] or None)
