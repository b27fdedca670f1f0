"""`make demo`: a running program captured and resumed across OS processes.

Until nodes exist (see README), the demo runs examples/tour.py with a migration at every
checkpoint, every resume in another process, and prints what the program printed.
"""

from __future__ import annotations

import os
import sys

from swarm.driver import run_migrating

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "examples", "tour.py")


def main() -> int:
    print(f"demo: running {os.path.relpath(EXAMPLE)}, captured at every checkpoint() and "
          "resumed in another process\n")
    outcome = run_migrating(EXAMPLE, subprocess=True)
    sys.stdout.write(outcome.stdout)
    print(f"\ndemo: {outcome.suspensions} migrations; result {outcome.result!r}")
    if outcome.error:
        print("demo failed:", outcome.error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
