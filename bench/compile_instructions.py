"""Compile time in instructions: swarm's compiler against CPython's compile() (issue 15).

Wall and CPU time move with the load of a shared machine; the count of instructions a
process executes does not. This counts them with valgrind (`--tool=cachegrind
--cache-sim=no`) for three processes, each reading the sources of the 49 benchmarks that
`bench.suite_overhead` measures (tests/conformance/suite.py's programs, the variants of one
benchmark directory each counted, as there):

    baseline   imports the compiler and reads the sources, compiles nothing
    swarm      the same, then `pipeline.compile_module` of each source (no cache, no resumers
               - they are built when a frame is first resumed - no live temps: found when a
               frame is first captured)
    cpython    the same, then CPython's `compile(source, filename, "exec")` of each

and reports swarm - baseline and cpython - baseline, and their ratio (issue 15 asks at most
5x). The three runs take about two minutes together under valgrind (one core each, one
after the other).

    python -m bench.compile_instructions            # the three counts and the ratio
    python -m bench.compile_instructions --passes   # also the swarm compile split by pass
                                                    # (in-process CPU time: proportions only)
    python -m bench.compile_instructions --each     # also each source's own ratio (two more
                                                    # valgrind runs per source: minutes)
    python -m bench.compile_instructions --child swarm   # one child, as valgrind runs it

Output (2026-12-08, branch s20-compile): see BENCHMARKS.md, issue 15's compile section.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("baseline", "swarm", "cpython")


def sources() -> list[tuple[str, str]]:
    """(filename, source) of each benchmark bench.suite_overhead measures (49)."""
    from bench.suite_overhead import _programs

    out = []
    for program in _programs():
        path = program.directory / "run_benchmark.py"
        out.append((str(path), path.read_text()))
    return out


def child(kind: str, only: int | None = None, times: int = 1) -> None:
    """What valgrind counts: the imports and reading, then (unless baseline) the compiles
    (of the `only`th source alone, `times` times, if given)."""
    from swarm.compiler import pipeline

    todo = sources()
    if only is not None:
        todo = todo[only:only + 1] * times
    if kind == "swarm":
        for i, (filename, source) in enumerate(todo):
            pipeline.compile_module(source, filename, f"bench_{i}")
    elif kind == "cpython":
        for filename, source in todo:
            compile(source, filename, "exec", dont_inherit=True)
    print(f"{kind}: {len(todo)} sources")


def count(kind: str, only: int | None = None, times: int = 1) -> int:
    """Instructions of one child process under valgrind."""
    with tempfile.TemporaryDirectory(prefix="swarm-cg-") as tmp:
        out = Path(tmp) / "cachegrind.out"
        cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
               f"--cachegrind-out-file={out}", sys.executable, "-m",
               "bench.compile_instructions", "--child", kind]
        if only is not None:
            cmd += ["--only", str(only), "--times", str(times)]
        env = dict(os.environ, PYTHONHASHSEED="0", SWARM_COMPILE_CACHE="off")
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        m = re.search(r"I\s+refs:\s+([\d,]+)", p.stderr)
        if p.returncode != 0 or not m:
            raise SystemExit(f"bench.compile_instructions: {kind} failed:\n{p.stderr[-2000:]}")
        return int(m.group(1).replace(",", ""))


def passes() -> None:
    """The swarm compile split by pass, in-process CPU time (cProfile's cumulative times of
    the pipeline's calls; proportions only, the profiler slows Python code more than C)."""
    import cProfile
    import pstats

    from swarm.compiler import pipeline

    todo = sources()
    prof = cProfile.Profile()
    start = time.process_time()
    prof.enable()
    for i, (filename, source) in enumerate(todo):
        pipeline.compile_module(source, filename, f"bench_{i}")
    prof.disable()
    total = time.process_time() - start
    stats = pstats.Stats(prof)
    wanted = {
        ("pipeline.py", "_parse"): "parse (ast.parse)",
        ("analysis.py", "__init__"): "module facts",
        ("mangle.py", "mangle_private_names"): "mangle",
        ("desugar.py", "desugar_module"): "desugar",
        ("scopes.py", "box_cells"): "boxes",
        ("anf.py", "module"): "A-normal form",
        ("lower.py", "guard_trys"): "guard trys",
        ("resumers.py", "points_in"): "resumer scan",
        ("resumers.py", "without_points"): "resumer scan (pointless)",
        ("lower.py", "lower_points"): "lower points",
        ("pipeline.py", "_hide_module_temps"): "hide module temps",
        ("pipeline.py", "_compile"): "compile() of the output",
        ("pipeline.py", "_fix_names"): "fix names",
    }
    rows = {}
    for (file, _, fn), (_, _, _, cum, _) in stats.stats.items():
        label = wanted.get((Path(file).name, fn))
        if label and not (fn == "__init__" and "analysis" not in file):
            rows[label] = rows.get(label, 0.0) + cum
    whole = sum(v for (f, _, fn), (_, _, _, v, _) in stats.stats.items()
                if Path(f).name == "pipeline.py" and fn == "compile_module")
    print(f"in-process, profiled: {whole:.2f} s ({total:.2f} s CPU with the profiler)")
    for label, v in sorted(rows.items(), key=lambda kv: -kv[1]):
        print(f"  {label:<28}{v:>7.2f} s {100 * v / whole:>5.1f}%")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compile_instructions",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--only", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--times", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--passes", action="store_true",
                        help="also split the swarm compile by pass (cProfile, CPU time)")
    parser.add_argument("--each", action="store_true",
                        help="also each source's ratio, and their geometric mean")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.only, args.times)
        return
    counts = {}
    for kind in KINDS:
        counts[kind] = count(kind)
        print(f"{kind:<9}{counts[kind] / 1e9:>8.3f} G instructions", flush=True)
    ours = counts["swarm"] - counts["baseline"]
    theirs = counts["cpython"] - counts["baseline"]
    print(f"swarm's compiler {ours / 1e9:.3f} G, CPython's compile() {theirs / 1e9:.3f} G: "
          f"{ours / theirs:.2f}x (target 5x: {5 * theirs / 1e9:.3f} G)")
    if args.each:
        each(counts["baseline"])
    if args.passes:
        passes()


def each(baseline: int) -> None:
    """Each source's compile, ours against CPython's, in instructions: what `python -m
    bench.suite_overhead --compile` gives in CPU time (best of 3 in one process), without
    the load's noise. A source compiled twice in a process less compiled once: a compile in
    a process that compiled before (the first one in a process also makes the compiler's
    per-node-class functions and warms the interpreter's caches: about 10 M instructions,
    shown as `first`)."""
    from bench.suite_overhead import _geomean, _programs

    ratios, firsts = [], []
    print(f"  {'benchmark':<28}{'swarm':>9} {'CPython':>8} {'ratio':>7} {'first':>8}")
    for i, program in enumerate(_programs()):
        once = count("swarm", i)
        ours = count("swarm", i, 2) - once
        theirs = count("cpython", i, 2) - count("cpython", i)
        first = (once - baseline) / theirs
        ratios.append(ours / theirs)
        firsts.append(first)
        print(f"  {program.name:<28}{ours / 1e6:>7.1f} M {theirs / 1e6:>6.2f} M "
              f"{ours / theirs:>6.2f}x {first:>7.2f}x", flush=True)
    print(f"each source: geometric mean {_geomean(ratios):.2f}x, max {max(ratios):.2f}x "
          f"(the first compile in a process: {_geomean(firsts):.2f}x, max {max(firsts):.2f}x)")


if __name__ == "__main__":
    main()
