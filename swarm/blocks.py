"""Atomic blocks: `with swarm.atomic():` and `@swarm.atomic`.

    with swarm.atomic():                 # serializable: as if no other program ran meanwhile
        a.set(a.get() - 10)
        b.set(b.get() + 10)              # (a on n1, b on n2: both or neither)

    @swarm.atomic                        # the same for every call of a function
    def transfer(src, dst, amount): ...

The block reads each Ref where it lives and keeps its writes (and what it prints) until its
end, where they are committed together if nothing it read has changed meanwhile; else it runs
again from its start, up to `attempts` times (then AtomicConflict). It runs on the node where
it entered and never moves, under every policy. Inside it, opening a file to write, starting a
process, move_to, spawn, Future.get, Ref.relocate and collections are refused (RuntimeError).
docs/atomic.md has the protocol and what it guarantees.
"""

from __future__ import annotations

import functools

from swarm.node import traps

ATTEMPTS = 100


class Block:
    """A `with swarm.atomic():` block (or, called on a function, its decorator)."""

    __slots__ = ("attempts", "nested")

    def __init__(self, attempts: int = ATTEMPTS) -> None:
        if type(attempts) is not int or attempts < 1:
            raise ValueError(f"attempts must be an int of 1 or more, not {attempts!r}")
        self.attempts = attempts
        self.nested = False

    def __enter__(self) -> None:
        traps.atomic_enter(self, Block.__enter__)

    def __exit__(self, kind, error, tb) -> bool:
        return traps.atomic_exit(self, error, Block.__exit__)

    def __call__(self, fn):
        return _decorated(fn, self.attempts)

    def __reduce__(self):
        return (_rebuild, (self.attempts, self.nested))


def _rebuild(attempts: int, nested: bool) -> Block:
    block = Block(attempts)
    block.nested = nested
    return block


def atomic(fn=None, *, attempts: int = ATTEMPTS):
    """`with atomic():` a block; `@atomic` (or `@atomic(attempts=...)`) a function whose
    every call is one. A block that conflicts `attempts` times in a row raises
    AtomicConflict."""
    if fn is None:
        return Block(attempts)
    if not callable(fn):
        raise TypeError(f"atomic() decorates a function, not {fn!r}")
    return _decorated(fn, attempts)


def _decorated(fn, attempts: int):
    @functools.wraps(fn)
    def atomically(*args, **kwargs):
        return traps.atomic_call(fn, args, kwargs, attempts)

    return atomically
