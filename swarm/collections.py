"""Swarm collections: Dict, List and Set, named and persistent, whose elements live in Refs
spread over the nodes.

    users = Dict("users")               # any program opens it by name; it survives restarts
    users.set("ada", {"joined": 1843})  # explicit calls move the program to the data
    profile = users.get("ada")          # ... to the element's node, where it goes on running
    users.increment("visits")           # atomic, where the element lives
    users.update("ada", touch)          # touch(old) -> new, atomic, where the element lives
    for name, profile in users.items(): # the loop body runs where each element lives
        ...
    "ada" in users, len(users)          # implicit calls bring the answer here instead
    users["ada"], users["bob"] = ...    # (so do d[k], d[k] = v, del d[k])

Where the data is (swarm/node/colldata.py): a Dict's values are one Ref each, created on the
node of their key's shard; the key index is split into shards (8 by default) kept round the
nodes; a Set's members live in its shards; a List's values in chunks of 64. `swarm place`
moves these Refs like any other, and operations follow them.

How an operation runs: as steps, each on the node of the Ref it touches. When the program
can be captured - an explicit method called from its own (compiled) code, or a `for` loop of
its own over an iterator - a step that touches data moves the program there, and the program
goes on running there. Finding a key's element, a collection's kind, a list's length are asked
for (the program waits, holding nothing elsewhere, and each node remembers the answer: the
next `get` of that key goes straight to its element). Implicit calls (operators, `len`, `in`,
`[]`), calls from code that was not compiled, and programs run with the fetch policy ask for
every step: the steps run where the data is and only the answer comes back.
"""

from __future__ import annotations

import dis
import sys

from swarm.compiler.registry import is_compiled_code
from swarm.continuation import codec
from swarm.continuation.capture import TRAMPOLINES
from swarm.continuation.primitives import Operation
from swarm.node import traps
from swarm.node.colldata import MAX_PARAM, CollOp, check_name, key_bytes
from swarm.wire import values

_REQUIRED = object()  # pop() without a default: a missing key raises KeyError
_ERRORS = {"KeyError": KeyError, "IndexError": IndexError, "TypeError": TypeError,
           "ValueError": ValueError}
_FOR_ITER = dis.opmap["FOR_ITER"]


class _Collection:
    kind = ""
    _param = "shards"
    __slots__ = ("name", "param")

    def __init__(self, name: str, param: int | None = None) -> None:
        self.name = check_name(name)
        if param is not None and (type(param) is not int or not 1 <= param <= MAX_PARAM):
            raise ValueError(f"{self._param} must be an int from 1 to {MAX_PARAM}, not "
                             f"{param!r}")
        self.param = param

    def __reduce__(self):
        return (type(self), (self.name, self.param))

    def __repr__(self) -> str:
        return f"swarm.{type(self).__name__}({self.name!r})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.name == self.name

    def __hash__(self) -> int:
        return hash((self.kind, self.name))

    def _op(self, action: str, key=_REQUIRED, value=_REQUIRED) -> CollOp:
        blob = None if value is _REQUIRED else codec.dumps(value)
        op = CollOp(self.kind, self.name, self.param, action,
                    None if key is _REQUIRED else key, blob)
        if key is not _REQUIRED and self.kind != "list":
            op.kb = key_bytes(key)  # (a bad key fails here, before anything runs)
        op.names(traps.homes())
        return op

    def __len__(self) -> int:
        """How many (asked of the shards, or of the list's tail; nothing moves)."""
        return Pending(self._op("len"), None, _plain).run(False)

    def __iter__(self):
        return _Iterator(self._op("iter"))


class Dict(_Collection):
    """A dict whose values live in Refs spread over the nodes (`shards`: how many parts its
    key index has; fixed when it is created, 8 by default)."""

    kind = "dict"
    __slots__ = ()

    def __init__(self, name: str, shards: int | None = None) -> None:
        super().__init__(name, shards)

    def get(self, key, default=None):
        """The value of `key` (a private copy), or `default`. Moves the program to the
        value's node."""
        return Pending(self._op("get", key), Dict.get, _value, default).run(_caller_compiled())

    def set(self, key, value) -> None:
        """Store `value` under `key`. Moves the program to the value's node (a new key: to
        its shard's node, where its Ref is created)."""
        return Pending(self._op("set", key, value), Dict.set, _plain).run(_caller_compiled())

    def update(self, key, fn, default=None):
        """Replace the value of `key` with fn(value) - fn(default) if there is none - and
        return it. fn runs where the value lives, with nothing else running on that node
        meanwhile, so concurrent updates never lose one another; it must not touch Refs or
        collections. The program moves there (whatever its policy: only it can run fn)."""
        if not callable(fn):
            raise TypeError(f"update() takes a function of the old value, not {fn!r}")
        if not _caller_compiled():
            raise TypeError("Dict.update(key, fn) must be called from the program's own code "
                            "(the program moves to run fn where the value lives); from here "
                            "use increment(), or set()")
        op = self._op("update", key, default)
        op.user_fn = True
        return Pending(op, Dict.update, _plain, fn=fn).run(True)

    def increment(self, key, by=1):
        """Add `by` to the value of `key` (0 if there is none) where it lives, atomically;
        return the new value."""
        if type(by) not in (int, float):
            raise TypeError(f"increment() adds an int or float, not {type(by).__name__}")
        op = self._op("update", key, 0)
        op.fn = Add(by)
        return Pending(op, Dict.increment, _plain).run(_caller_compiled())

    def pop(self, key, default=_REQUIRED):
        """Remove `key` and return its value (`default` if it is missing, else KeyError)."""
        return Pending(self._op("pop", key), Dict.pop, _value, default).run(_caller_compiled())

    def keys(self):
        """An iterator over the keys, shard by shard (in no particular order); a `for` loop
        over it moves the program to each shard."""
        return _Iterator(self._op("iter"), "keys")

    def values(self):
        """An iterator over the values; a `for` loop over it runs where each value lives
        (values on one node come one after another)."""
        return _Iterator(self._op("iter"), "values")

    def items(self):
        """An iterator over (key, value) pairs; a `for` loop over it runs where each value
        lives."""
        return _Iterator(self._op("iter"), "items")

    def __iter__(self):
        return self.keys()

    def __getitem__(self, key):
        return Pending(self._op("get", key), None, _value, _REQUIRED).run(False)

    def __setitem__(self, key, value) -> None:
        Pending(self._op("set", key, value), None, _plain).run(False)

    def __delitem__(self, key) -> None:
        Pending(self._op("pop", key), None, _value, _REQUIRED).run(False)

    def __contains__(self, key) -> bool:
        return Pending(self._op("contains", key), None, _plain).run(False)


class Set(_Collection):
    """A set whose members live in shards spread over the nodes (`shards`: how many; fixed
    when it is created, 8 by default)."""

    kind = "set"
    __slots__ = ()

    def __init__(self, name: str, shards: int | None = None) -> None:
        super().__init__(name, shards)

    def add(self, member) -> None:
        """Add a member (moves the program to its shard)."""
        Pending(self._op("add", member), Set.add, _plain).run(_caller_compiled())

    def discard(self, member) -> None:
        """Remove a member if it is there (moves the program to its shard)."""
        Pending(self._op("discard", member), Set.discard, _plain).run(_caller_compiled())

    def remove(self, member) -> None:
        """Remove a member; KeyError if it is not there (moves the program to its shard)."""
        Pending(self._op("remove", member), Set.remove, _plain).run(_caller_compiled())

    def __contains__(self, member) -> bool:
        return Pending(self._op("contains", member), None, _plain).run(False)


class List(_Collection):
    """A list whose values live in chunks (`chunk` values each, 64 by default; fixed when it
    is created) spread over the nodes. Appending is atomic; values are never removed."""

    kind = "list"
    _param = "chunk"
    __slots__ = ()

    def __init__(self, name: str, chunk: int | None = None) -> None:
        super().__init__(name, chunk)

    def append(self, value) -> int:
        """Append `value` (moves the program to the last chunk); return its index."""
        return Pending(self._op("append", value=value), List.append, _plain).run(
            _caller_compiled())

    def get(self, index: int):
        """The value at `index` (a private copy; moves the program to its chunk)."""
        return Pending(self._op("get", _index(index)), List.get, _value, _REQUIRED).run(
            _caller_compiled())

    def set(self, index: int, value) -> None:
        """Replace the value at `index` (moves the program to its chunk)."""
        Pending(self._op("set", _index(index), value), List.set, _plain).run(
            _caller_compiled())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Pending(self._op("slice", index), None, _values).run(False)
        return Pending(self._op("get", _index(index)), None, _value, _REQUIRED).run(False)

    def __setitem__(self, index: int, value) -> None:
        Pending(self._op("set", _index(index), value), None, _plain).run(False)


def _index(index) -> int:
    if type(index) is not int:
        raise TypeError(f"swarm.List indices must be integers or slices, not "
                        f"{type(index).__name__}")
    return index


class Add:
    """increment's function: old + by (a plain object, so an asked node can run it)."""

    __slots__ = ("by",)

    def __init__(self, by) -> None:
        self.by = by

    def __call__(self, old):
        if type(old) not in (int, float):
            raise TypeError(f"increment() adds to a number, not to a {type(old).__name__}")
        return old + self.by

    def __reduce__(self):
        return (Add, (self.by,))


# ---- running an operation ---------------------------------------------------------------------

class Pending(Operation):
    """A collection operation a program is running: the leaf of its capture when it moves.

    `primitive` is the method the program called (None for implicit calls, which never move);
    `finish(pending, op)` turns the finished op into what the method returns; `fn` is update's
    function (it travels with the program, never in an ask); `iterator`: the iterator whose
    `__next__` this is (a `for` loop advances it again where the program arrives)."""

    __slots__ = ("op", "primitive", "finish", "arg", "fn", "iterator")

    def __init__(self, op: CollOp, primitive, finish, arg=None, fn=None, iterator=None) -> None:
        self.op, self.primitive, self.finish, self.arg = op, primitive, finish, arg
        self.fn, self.iterator = fn, iterator

    @property
    def destination(self) -> str:
        return self.op.dest

    @property
    def why(self) -> str:
        return f"{self.op.action} {self.op.kind} {self.op.name}"

    def run(self, can_move):
        """Run the op to its end (or to the next item, iterating); `can_move`: whether the
        program may be captured here (a bool, or a function that tells)."""
        return self.finish(self, traps.collection_drive(self, can_move))

    def perform(self):  # where the program arrived
        return self.run(True)

    def __reduce__(self):
        return (Pending, (self.op, self.primitive, self.finish, self.arg, self.fn,
                          self.iterator))


def _caller_compiled() -> bool:
    """Was the method that calls this called from compiled code (a call site that can be
    captured)? Library code, and code outside a program, asks instead of moving."""
    return is_compiled_code(sys._getframe(2).f_code)


# ---- finishing --------------------------------------------------------------------------------

def _raise_error(op: CollOp) -> None:
    if op.err is not None:
        name, args = op.err
        raise _ERRORS.get(name, RuntimeError)(*args)


def _plain(p: Pending, op: CollOp):
    _raise_error(op)
    return op.out


def _value(p: Pending, op: CollOp):
    _raise_error(op)
    if op.missing:
        if p.arg is _REQUIRED:
            raise KeyError(op.key)
        return p.arg
    return values.decode(op.out)


def _values(p: Pending, op: CollOp):
    _raise_error(op)
    if not op.out:
        return []
    lo, _, out, n = op.acc
    return [values.decode(out[i - lo]) for i in range(*op.key.indices(n)) if i - lo < len(out)]


def _next_item(p: Pending, op: CollOp):
    _raise_error(op)
    if not op.ready:
        raise StopIteration
    item = op.ready.pop(0)
    if op.kind == "list":
        return values.decode(item)
    if op.kind == "set" or op.mode == "keys":
        return item
    if op.mode == "values":
        return values.decode(item[1])
    return item[0], values.decode(item[1])


# ---- iterating --------------------------------------------------------------------------------

class _Iterator:
    """Iteration over a collection, shard by shard (chunk by chunk for a List). Advanced by
    a `for` loop of the program's own, it moves the program to each shard, chunk or value in
    turn, and the loop body runs there; advanced by anything else (`list(d)`, a comprehension
    without calls, library code), it asks each node for a batch instead."""

    __slots__ = ("op",)

    def __init__(self, op: CollOp, mode: str | None = None) -> None:
        op.mode = mode
        self.op = op

    def __iter__(self):
        return self

    def __next__(self):
        op = self.op
        if op.ready or op.done:
            return _next_item(None, op)
        caller = sys._getframe(1)
        pending = Pending(op, _Iterator.__next__, _next_item, iterator=self)
        return pending.run(lambda: _advanced_by_a_for_loop(self, caller))

    def __reduce__(self):
        return (_rebuild_iterator, (self.op,))


def _rebuild_iterator(op: CollOp) -> _Iterator:
    it = object.__new__(_Iterator)
    it.op = op
    return it


def _advanced_by_a_for_loop(it: _Iterator, frame) -> bool:
    """Is `frame` a compiled `for` loop advancing `it` itself (the compiler keeps such a
    loop's iterator in a `_sw_it` local and wraps the loop in a capture handler), or the
    runtime advancing it again where the program arrived (GenNext)?

    Discussion: `enumerate(d)`, `list(d)` or a comprehension without calls also advance it
    from a compiled frame, but through C code, which cannot be captured: there the frame is
    not at a FOR_ITER over `it` itself, and the iterator asks instead of moving."""
    code = frame.f_code
    if code in TRAMPOLINES:
        return True
    if not is_compiled_code(code) or code.co_name.startswith("<") and code.co_name != "<module>":
        return False
    if code.co_code[frame.f_lasti] != _FOR_ITER:
        return False
    # a module's loop (run or resumed): its holder is an item of the module's
    # `__swarm_temps__` (compiler/hiding.py)
    scopes = [frame.f_locals, frame.f_globals.get("__swarm_temps__") or {}]
    return any(value is it for names in scopes for name, value in names.items()
               if name.startswith("_sw_it"))
