"""The runtime's own objects, kept out of the programs' garbage collections.

A process that runs programs - a node, a worker of the migrating driver - imports the runtime
first: some 13,000 objects (the modules, classes and functions of swarm, zmq, dill, msgpack...)
that live as long as the process. A full collection of CPython traverses every tracked object,
so a program that collects, or makes enough cycles to set one off, paid for the runtime's
objects as well: `gc.collect()` took 3-5x as long as in a plain interpreter (pyperformance's
gc_collect and gc_traversal, bench/suite_overhead.py).

`freeze_startup()` moves every object allocated so far into the permanent generation
(`gc.freeze()`): collections no longer look at them. What it freezes is never collected, so it
is called once, after start-up and before any program runs, after a collection of its own.
"""

from __future__ import annotations

import gc


def freeze_startup() -> None:
    """Collect once, then leave everything alive now out of later collections."""
    gc.collect()
    gc.freeze()


def live_ref_ids() -> list[str]:
    """The ids of the Refs and futures alive in this process: held by its programs (their
    frames, what those hold), found among every object the collector tracks (a garbage
    collection's mark: swarm/node/machine/gc.py). A collection first, so that Refs held
    only by unreachable cycles are not counted."""
    from swarm.handles import Handle

    gc.collect()
    ids = set()
    for obj in gc.get_objects():
        if isinstance(obj, Handle) and obj.kind in ("ref", "future"):
            ids.add(obj.id)
    return sorted(ids)
