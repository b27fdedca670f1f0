"""A linearizability checker for histories of single-Ref operations (issue 19 item 4), after
Wing & Gong's search with Lowe's memoisation (the "WGL" algorithm of Knossos and Porcupine).

A history is a list of `Op`: a `get`, `set` or `update` of one register (`key`: a Ref), by a
`process`, invoked at `start` and completed at `end` (None: unknown - its client saw an
error, so it may have taken effect at any moment after `start`, or never). The model is a
register: `get` returns the value, `set(v)` replaces it, `update(fn)` replaces it with
fn(old) and returns the new value.

The history is linearizable if every completed operation can be given one moment between
its start and its end (and some unknown ones a moment after their start) such that, taken
in that order, each returns what the register would. `check(history, initial)` checks each
key on its own (linearizability is compositional: P-compositionality) and returns the
`Verdict`s of the keys that are not linearizable, each with a line saying which operation
could not be placed.

Discussion: the search. Calls and returns are sorted by time into one list; the search walks
it, linearizing a call when the model accepts it (and removing its call and return from the
list), and backtracking to the last linearized call when it meets the return of an operation
it has not linearized. A (set of linearized operations, register value) already explored is
not explored again - the memoisation that makes it fast for our histories (dozens of
operations per key, a handful at once). An unknown operation's return is at +infinity: the
walk reaching one has linearized every completed operation, so the history is
linearizable (the unknown ones left happened after, or never). `max_steps` bounds the search:
past it, `check` raises rather than pass a history it did not finish.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable

GET, SET, UPDATE = "get", "set", "update"


@dataclass(frozen=True)
class Op:
    """One operation on one register: `arg` is the value set or the update's function,
    `result` what a get or an update returned (None for a set, or when unknown)."""
    process: Hashable
    f: str
    arg: object = None
    result: object = None
    start: float = 0.0
    end: float | None = None
    key: Hashable = None

    def __str__(self) -> str:
        what = {GET: f"get -> {self.result!r}", SET: f"set({self.arg!r})",
                UPDATE: f"update({getattr(self.arg, '__name__', self.arg)}) -> "
                        f"{self.result!r}"}[self.f]
        end = "?" if self.end is None else f"{self.end:.6f}"
        return f"{what} by {self.process} [{self.start:.6f}, {end}]"


def apply(state: object, op: Op) -> tuple[bool, object]:
    """The register model: does `op` return what it did from `state`, and the state after."""
    if op.f == GET:
        return op.result == state, state
    if op.f == SET:
        return True, op.arg
    if op.f == UPDATE:
        new = op.arg(state)
        return op.end is None or op.result == new, new
    raise ValueError(f"unknown operation {op.f!r} in {op}")


@dataclass(frozen=True)
class Verdict:
    """A key whose history is not linearizable: why, in one line."""
    key: Hashable
    why: str

    def __str__(self) -> str:
        return f"{self.key!r}: {self.why}"


class _Entry:
    """A call or a return in the search's doubly linked list."""
    __slots__ = ("op", "call", "match", "prev", "next")

    def __init__(self, op: int, call: bool) -> None:
        self.op, self.call = op, call
        self.match: _Entry | None = None
        self.prev: _Entry | None = None
        self.next: _Entry | None = None

    def lift(self) -> None:
        """Take this call and its return out of the list."""
        for e in (self, self.match):
            e.prev.next = e.next
            if e.next is not None:
                e.next.prev = e.prev

    def unlift(self) -> None:
        """Put them back (in the reverse order)."""
        for e in (self.match, self):
            e.prev.next = e
            if e.next is not None:
                e.next.prev = e


def check_register(ops: list[Op], initial: object = None,
                   model: Callable[[object, Op], tuple[bool, object]] = apply,
                   max_steps: int = 2_000_000) -> str | None:
    """Why one register's history is not linearizable, or None if it is."""
    ops = [op for op in ops if not (op.f == GET and op.end is None)]  # (says nothing)
    events = []
    for i, op in enumerate(ops):
        end = math.inf if op.end is None else op.end
        if end < op.start:
            raise ValueError(f"{op} ends before it starts")
        events.append((op.start, 0, i))
        events.append((end, 1, i))
    events.sort()  # (at equal times calls come first: the two operations overlap)
    head = _Entry(-1, True)
    calls: dict[int, _Entry] = {}
    last = head
    for _, kind, i in events:
        e = _Entry(i, kind == 0)
        if e.call:
            calls[i] = e
        else:
            calls[i].match, e.match = e, calls[i]
        e.prev, last.next = last, e
        last = e

    state, linearized = initial, 0
    stack: list[tuple[_Entry, object]] = []
    seen: set = set()
    best: tuple[int, int, object] = (0, 0, initial)  # (how many, which, state) at the most
    entry, steps = head.next, 0
    while entry is not None:
        steps += 1
        if steps > max_steps:
            raise RuntimeError(f"the search gave up after {max_steps} steps ({len(ops)} ops)")
        if entry.call:
            ok, new = model(state, ops[entry.op])
            mark = linearized | (1 << entry.op)
            if ok and (mark, _hashable(new)) not in seen:
                seen.add((mark, _hashable(new)))
                stack.append((entry, state))
                state, linearized = new, mark
                entry.lift()
                if len(stack) > best[0]:
                    best = (len(stack), linearized, state)
                entry = head.next
            else:
                entry = entry.next
        elif ops[entry.op].end is None:
            return None  # every completed operation is linearized
        else:
            if not stack:
                return _why(ops, best)
            entry, state = stack.pop()
            linearized &= ~(1 << entry.op)
            entry.unlift()
            entry = entry.next
    return None


def _hashable(state: object) -> object:
    try:
        hash(state)
        return state
    except TypeError:
        return repr(state)


def _why(ops: list[Op], best: tuple[int, int, object]) -> str:
    count, linearized, state = best
    left = [op for i, op in enumerate(ops) if not linearized >> i & 1 and op.end is not None]
    first = min(left, key=lambda op: op.end)
    return (f"after at most {count} of {len(ops)} operations linearized (the register then "
            f"{state!r}), {first} cannot be placed: no order of the operations before its end "
            f"gives what it returned")


def check(history: Iterable[Op], initial: object = None,
          model: Callable[[object, Op], tuple[bool, object]] = apply) -> list[Verdict]:
    """The keys of `history` that are not linearizable (each checked on its own, from
    `initial`, or `initial[key]` if `initial` is a dict); [] if all are."""
    by_key: dict = defaultdict(list)
    for op in history:
        by_key[op.key].append(op)
    out = []
    for key, ops in by_key.items():
        start = initial.get(key) if isinstance(initial, dict) else initial
        why = check_register(ops, start, model)
        if why is not None:
            out.append(Verdict(key, why))
    return out
