"""What a hop carries (issue 15, items 14-16): values already used, large globals, classes.

- a 16 MiB module global, the program migrating 12 times between two worker processes
  (`swarm migrate -p`'s driver): the bytes sent in all, against 12 x 16 MiB if every hop
  carried it (content the receiver holds already goes by hash);
- the same on 3 real nodes (`swarm.local_cluster(3)`, the program reading a Ref on each in
  turn, 12 times): the hops' bytes (its trace) plus the values the nodes sent when asked
  (program._encode: a value the same at the next hop goes by hash);
- `n = len(get(i))` over 1 MiB values in a loop, in a function and at the top level: the
  largest hop (the value just measured is dead at the next hop and must not ride along);
- a script with several classes: whether its continuation encodes with the C pickler (not
  dill, which takes 2-15 ms a hop).
"""

from __future__ import annotations

import os
import tempfile

from swarm.compiler.hook import user_modules
from swarm.continuation import codec
from swarm.continuation.primitives import set_policy
from swarm.driver import _always, _resume_bytes, _start, _step, run_migrating

BIG_GLOBAL = """from swarm import checkpoint
BLOB = bytes(range(256)) * (1 << 16)
total = 0
for i in range(12):
    checkpoint()
    total += BLOB[i]
RESULT = total
"""

DEAD_RESULTS = """from swarm import checkpoint

def get(i):
    checkpoint()
    return bytes(1 << 20)

def main():
    total = 0
    for i in range(4):
        n = len(get(i))
        total += n
    return total

RESULT = main()
for i in range(3):
    size = len(get(i))
"""

CLASSES = """from dataclasses import dataclass
from swarm import checkpoint

class Account:
    def __init__(self, owner, balance):
        self.owner, self.balance = owner, balance

class Savings(Account):
    rate = 0.02

@dataclass
class Move:
    source: Account
    target: Account
    amount: int

def run():
    a, b = Account("ada", 10), Savings("bob", 5)
    m = Move(a, b, 3)
    checkpoint()
    return m.amount + a.balance + b.balance

RESULT = run()
"""


def _hops(path: str) -> list[bytes]:
    """Each hop's bytes, the program stepped in this process."""
    set_policy(_always)
    hops = []
    try:
        with user_modules([os.path.dirname(path)]):
            _, run = _start(path)
            _, data, _, error, _ = _step(run)
            while data is not None:
                hops.append(data)
                _, data, _, error, _ = _step(_resume_bytes(data))
    finally:
        set_policy(None)
    if error:
        raise RuntimeError(error)
    return hops


NODES_BIG_GLOBAL = """from swarm import Ref, nodes
BLOB = bytes(range(256)) * (1 << 16)
names = nodes()
refs = [Ref(i, at=names[i % len(names)]) for i in range(3)]
total = 0
for i in range(12):
    total += refs[i % 3].get() + BLOB[i]
"""


def on_nodes(path: str) -> dict:
    """The 16 MiB global on 3 real nodes: what crossed between them."""
    import swarm

    with swarm.local_cluster(3) as cluster:
        out = cluster.run_file(path, trace=True, timeout=300)
        rows = cluster.status()
    if out.error:
        raise RuntimeError(out.error)
    hop_bytes = sum(h["bytes"] for h in out.trace)
    asked = sum(r["values"]["sent"] for r in rows)
    return {"hops": len(out.trace), "hop_bytes": hop_bytes, "values_asked": asked,
            "sent_mib": (hop_bytes + asked * (16 << 20)) / 2**20,
            "largest_later_hop": max(h["bytes"] for h in out.trace[1:])}


def main() -> dict:
    with tempfile.TemporaryDirectory(prefix="swarm-bench-carried-") as tmp:
        paths = {}
        for name, text in (("big", BIG_GLOBAL), ("dead", DEAD_RESULTS), ("classes", CLASSES)):
            paths[name] = os.path.join(tmp, f"{name}.py")
            with open(paths[name], "w") as f:
                f.write(text)
        big = run_migrating(paths["big"], subprocess=True)
        nodes_path = os.path.join(tmp, "nodes_big.py")
        with open(nodes_path, "w") as f:
            f.write(NODES_BIG_GLOBAL)
        nodes = on_nodes(nodes_path)
        dead = _hops(paths["dead"])
        classes = _hops(paths["classes"])
    engine_of = {magic: name for name, magic in codec.MAGIC.items()}
    engines = sorted({engine_of.get(h[:4], repr(h[:4])) for h in classes})
    result = {
        "big_global_hops": big.suspensions, "big_global_sent_mib": big.bytes_sent / 2**20,
        "big_global_every_hop_mib": 12 * 16,
        "nodes_big_global": nodes,
        "dead_results_hops": len(dead), "dead_results_largest_kib": max(map(len, dead)) / 1024,
        "classes_engines": engines,
        "errors": [e for e in (big.error,) if e],
    }
    print(f"  16 MiB global, {big.suspensions} hops between 2 processes: "
          f"{result['big_global_sent_mib']:.1f} MiB sent in all (target < 64; 192 if every "
          "hop carried it)")
    print(f"  16 MiB global on 3 nodes, {nodes['hops']} hops: {nodes['sent_mib']:.1f} MiB "
          f"sent in all ({nodes['hop_bytes'] / 2**20:.1f} MiB of hops, the value asked for "
          f"{nodes['values_asked']} times; later hops at most {nodes['largest_later_hop']} "
          "bytes; target < 64)")
    print(f"  len(get(i)) over 1 MiB values, {len(dead)} hops: the largest "
          f"{result['dead_results_largest_kib']:.1f} KiB (target < 64)")
    print(f"  a script with 3 classes (one a dataclass): encoded by {', '.join(engines)}")
    return result


if __name__ == "__main__":
    main()
