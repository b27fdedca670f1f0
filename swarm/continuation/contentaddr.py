"""Content-addressed transfer: large unchanged values cross to each receiver once.

A program's module globals and big locals travel with every hop: a script with a 16 MB table
would send 16 MB per hop. With content addressing, `codec.encode` replaces each large value
the receiver already holds by its content hash, and sends the others once, beside the
continuation, for the receiver to keep:

    data = codec.encode(cont, parked, receiver_has=peer_has, keep=my_store)
        receiver_has(h) -> bool   does the receiving process hold the value of hash h?
        keep                      a dict: every large value encoded is put here (h -> bytes),
                                  so this process can resolve h when the program comes back
    cont = codec.decode(data, keep=my_store, resolver=ask_peer)
        keep                      values sent along are put here (h -> bytes)
        resolver(h) -> bytes      asked for a hash neither the data nor `keep` holds
    codec.carried_hashes(data) -> set of the hashes whose values travel inside `data`

What is large: a module global or a frame's local whose pickle (alone, with the codec's
reductions) is at least THRESHOLD bytes and refers to no compiled module (a value holding the
program's functions or classes travels with the continuation as before), and that shares
nothing with the rest of the continuation (`_may_be_large`: bytes, str, an array that owns
its memory, a container of plain atoms - pickled alone, a list inside a table that a local
also named, or a numpy view's base, would come back as a copy: tests/test_values.py found it). The hash is BLAKE2b
(16 bytes) of that pickle, so equal content has one hash in every process.

Byte layout (magic b"SWH4"): the pickle of (values sent along: {hash: bytes}, the inner
encoding - b"SWC4" + the pickle of the continuation, in which each replaced value is a
persistent id, its hash). Within one decode a hash resolves to one object, so two variables
holding the same table still hold one table after the hop.

Who keeps the record of what each process holds is the caller: the driver (`swarm migrate
-p`) for its two workers; a node names by hash the values the same as at the program's hop
before, and its peers ask for those they lack (swarm/node/program.py `_encode`).
Discussion: a value is hashed by pickling it on every hop (the CPU cost stays; the network
cost goes), since a mutable value cannot be known unchanged without looking at it.
"""

from __future__ import annotations

import hashlib
import sys
from types import ModuleType

THRESHOLD = 64 * 1024
MAGIC = b"SWH4"
_CHEAP = frozenset({bytes, bytearray, str})
_CONTAINERS = frozenset({list, tuple, dict, set, frozenset})


def digest(blob: bytes) -> bytes:
    """The content hash of a pickled value (BLAKE2b, 16 bytes)."""
    return hashlib.blake2b(blob, digest_size=16).digest()


_ATOMS = frozenset({int, float, complex, str, bytes, bool, type(None)})


def _may_be_large(value) -> bool:
    """A cheap first look (no pickling) at whether a value could pickle to THRESHOLD bytes -
    and may go by hash at all: a value that shares nothing with the rest of the continuation
    (pickled alone, what it holds would be copies: a list in it that a local also names, a
    numpy view of an array elsewhere, would no longer be the same object after the hop). So:
    bytes, bytearray and str; a numpy array that owns its memory and holds no objects; a
    list, tuple, dict, set or frozenset of ints, floats, strs, bytes, bools and None only."""
    t = type(value)
    if t in _CHEAP:
        return len(value) >= THRESHOLD
    if t in _CONTAINERS:
        if sys.getsizeof(value) < THRESHOLD // 16:
            return False
        if t is dict:
            return set(map(type, value)) <= _ATOMS and set(map(type, value.values())) <= _ATOMS
        return set(map(type, value)) <= _ATOMS
    nbytes = getattr(value, "nbytes", None)  # numpy arrays
    if isinstance(nbytes, int) and nbytes >= THRESHOLD:
        return getattr(value, "base", 0) is None and not value.dtype.hasobject
    return False


def candidates(frames) -> dict[int, object]:
    """The values that may be worth sending by hash: module globals and frame locals."""
    found: dict[int, object] = {}
    seen_modules: set[int] = set()
    for fr in frames:
        module: ModuleType = fr.module
        if id(module) not in seen_modules:
            seen_modules.add(id(module))
            for key, value in module.__dict__.items():
                if not key.startswith("__") and _may_be_large(value):
                    found[id(value)] = value
        for value in (fr.locals or {}).values():
            if _may_be_large(value):
                found[id(value)] = value
    return found
