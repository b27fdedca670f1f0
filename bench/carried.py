"""What a hop carries (issue 15, items 14-16): values already used, large globals, classes.

- a 16 MiB module global, the program migrating 12 times between two worker processes
  (`swarm migrate -p`'s driver): the bytes sent in all, against 12 x 16 MiB if every hop
  carried it (content the receiver holds already goes by hash);
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


def main() -> dict:
    with tempfile.TemporaryDirectory(prefix="swarm-bench-carried-") as tmp:
        paths = {}
        for name, text in (("big", BIG_GLOBAL), ("dead", DEAD_RESULTS), ("classes", CLASSES)):
            paths[name] = os.path.join(tmp, f"{name}.py")
            with open(paths[name], "w") as f:
                f.write(text)
        big = run_migrating(paths["big"], subprocess=True)
        dead = _hops(paths["dead"])
        classes = _hops(paths["classes"])
    engine_of = {magic: name for name, magic in codec.MAGIC.items()}
    engines = sorted({engine_of.get(h[:4], repr(h[:4])) for h in classes})
    result = {
        "big_global_hops": big.suspensions, "big_global_sent_mib": big.bytes_sent / 2**20,
        "big_global_every_hop_mib": 12 * 16,
        "dead_results_hops": len(dead), "dead_results_largest_kib": max(map(len, dead)) / 1024,
        "classes_engines": engines,
        "errors": [e for e in (big.error,) if e],
    }
    print(f"  16 MiB global, {big.suspensions} hops between 2 processes: "
          f"{result['big_global_sent_mib']:.1f} MiB sent in all (target < 64; 192 if every "
          "hop carried it)")
    print(f"  len(get(i)) over 1 MiB values, {len(dead)} hops: the largest "
          f"{result['dead_results_largest_kib']:.1f} KiB (target < 64)")
    print(f"  a script with 3 classes (one a dataclass): encoded by {', '.join(engines)}")
    return result


if __name__ == "__main__":
    main()
