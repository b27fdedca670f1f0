"""Compiled-vs-plain benchmark: the cost of swarm's compiler rewrite on typical code.

Each workload in bench/programs/ is loaded twice in this process: natively (plain importlib)
and through `swarm.compiler.load_module`. Both `run()` results must agree; then the two are timed
alternately, best of REPEATS, after one warm-up call each. Then the same ratio over the whole
pyperformance suite, with compile time and code size (bench/suite_overhead.py).
"""

from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path

PROGRAMS = Path(__file__).resolve().parent / "programs"
WORKLOADS = ["fib", "nqueens", "numeric", "tree", "generators", "scheduler"]
REPEATS = 7


def load_native(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_compiled(path: Path, name: str):
    from swarm.compiler import load_module

    return load_module(str(path), name)


def _time_once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(name: str, repeats: int = REPEATS) -> dict:
    path = PROGRAMS / f"{name}.py"
    native = load_native(path, f"bench_native_{name}")
    compiled = load_compiled(path, f"bench_compiled_{name}")
    expected = native.run()  # also the native warm-up
    got = compiled.run()  # also the compiled warm-up
    if got != expected:
        raise AssertionError(f"{name}: compiled run() returned {got!r}, native {expected!r}")
    native_times, compiled_times = [], []
    for _ in range(repeats):
        native_times.append(_time_once(native.run))
        compiled_times.append(_time_once(compiled.run))
    plain, comp = min(native_times), min(compiled_times)
    return {"plain_s": plain, "compiled_s": comp, "ratio": comp / plain, "checksum": repr(expected)}


def main() -> dict:
    results: dict = {}
    errors: dict = {}
    print(f"compiled vs plain CPython (best of {REPEATS}, same process, alternating)")
    print(f"{'workload':<12}{'plain ms':>10}{'compiled ms':>14}{'ratio':>9}")
    for name in WORKLOADS:
        try:
            r = measure(name)
        except Exception as exc:  # report and carry on with the other workloads
            errors[name] = f"{type(exc).__name__}: {exc}"
            print(f"{name:<12}  FAILED {errors[name][:200]}")
            continue
        results[name] = r
        print(
            f"{name:<12}{r['plain_s'] * 1e3:>10.1f}{r['compiled_s'] * 1e3:>14.1f}"
            f"{r['ratio']:>8.2f}x"
        )
    summary: dict = {"repeats": REPEATS, "workloads": results, "errors": errors}
    if results:
        ratios = {n: r["ratio"] for n, r in results.items()}
        geomean = math.exp(sum(math.log(v) for v in ratios.values()) / len(ratios))
        worst = max(ratios, key=ratios.get)
        summary.update(geomean_ratio=geomean, max_ratio=ratios[worst], max_workload=worst)
        print(f"geometric mean {geomean:.2f}x   max {ratios[worst]:.2f}x ({worst})")
    try:  # the whole pyperformance suite (pip install -e '.[conformance]')
        from bench import suite_overhead

        summary["pyperformance"] = suite_overhead.main()
    except ImportError as exc:
        print(f"pyperformance suite skipped: {exc}")
    return summary


if __name__ == "__main__":
    main()
