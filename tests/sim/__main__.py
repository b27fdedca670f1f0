"""Replay a simulated run: `python -m tests.sim SEED [SEED...]` prints what happened (the
faults, the log, the violations); `python -m tests.sim --search N [--from S]` runs N seeds
and prints the failing ones."""

from __future__ import annotations

import argparse
import sys

from tests.sim.money import run_seed


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m tests.sim")
    p.add_argument("seeds", nargs="*", type=int)
    p.add_argument("--search", type=int, default=0, help="run this many seeds")
    p.add_argument("--from", dest="start", type=int, default=0)
    args = p.parse_args()
    bad = 0
    for seed in args.seeds:
        world = run_seed(seed)
        print(f"seed {seed}: {world.faults}")
        print("\n".join(world.log))
        print("\n".join(world.violations) or "no violation")
        bad += bool(world.violations)
    for seed in range(args.start, args.start + args.search):
        world = run_seed(seed)
        if world.violations:
            bad += 1
            print(world.violations[0])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
