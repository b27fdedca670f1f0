"""`make demo`: examples/hello.py on an embedded local cluster.

Three `swarm-node` processes start on loopback in a temporary directory; the program starts on
n1 and moves to each Ref it reads; its output comes back here in program order, then the
nodes it ran on. The nodes stop at the end.
"""

from __future__ import annotations

import os
import sys

from swarm.embedded import local_cluster

# the checkout's examples/, or (installed from a wheel) the copy setup.cfg puts in
# <prefix>/share/swarm/examples
EXAMPLES = next((d for d in (
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"),
    os.path.join(sys.prefix, "share", "swarm", "examples")) if os.path.isdir(d)), "examples")


def _shown(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def main() -> int:
    hello = os.path.join(EXAMPLES, "hello.py")
    print(f"demo: {_shown(hello)} on 3 local nodes (n1, n2, n3)\n")
    with local_cluster(3) as cluster:
        outcome = cluster.run_file(hello, echo=True, trace=True)
    if outcome.error:
        print("demo failed:", outcome.traceback or outcome.error)
        return 1
    print(f"\ndemo: the program ran on {' -> '.join(outcome.route)}")
    for h in outcome.trace:
        print(f"  hop {h['from']} -> {h['to']}: {h['why']}, {h['bytes']} bytes, "
              f"{h['us'] / 1000:.1f} ms")
    more = _shown(os.path.join(EXAMPLES, "spawn_futures.py"))
    print(f"\nmore: swarm run --show-node --trace {more} (or relocate.py, "
          "explicit_move.py, force_remote.py, big_data.py beside it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
