"""`make demo`: examples/hello.py on an embedded local cluster.

Three `swarm-node` processes start on loopback in a temporary directory; the program starts on
n1 and moves to each Ref it reads; its output comes back here in program order, then the
nodes it ran on. The nodes stop at the end.
"""

from __future__ import annotations

import os
import sys

from swarm.client import local_cluster

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "examples")


def main() -> int:
    hello = os.path.join(EXAMPLES, "hello.py")
    print(f"demo: {os.path.relpath(hello)} on 3 local nodes (n1, n2, n3)\n")
    with local_cluster(3) as cluster:
        outcome = cluster.run_file(hello, echo=True, trace=True)
    if outcome.error:
        print("demo failed:", outcome.traceback or outcome.error)
        return 1
    print(f"\ndemo: the program ran on {' -> '.join(outcome.route)}")
    for h in outcome.trace:
        print(f"  hop {h['from']} -> {h['to']}: {h['why']}, {h['bytes']} bytes, "
              f"{h['us'] / 1000:.1f} ms")
    print("\nmore: swarm run examples/spawn_futures.py (or relocate.py, explicit_move.py, "
          "force_remote.py, big_data.py) --show-node --trace")
    return 0


if __name__ == "__main__":
    sys.exit(main())
