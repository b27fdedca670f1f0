"""The Refs that live on this node: their values, relocations in flight, futures awaited.

Values are kept in the node's store, encoded (swarm/wire/values.py: a pickle, with bytes and
numpy arrays beside it, out of band); the machine reads the store through `reader` (the
shell's SQLite store, or the simulator's disk). A write is staged in memory (`staged`: ref
id -> encoded value, or None for a deletion), seen at once by every reader on this node, and
committed with the hop ledger's next write (ledger.py): in the same transaction as the hop
that brought the program and the hop it sends on, so that a crash keeps both or neither.
Until then nothing leaves the node (NodeState holds every message). A relocation's marks -
started, done (the value gone, a forward left) - are staged the same way.

The values read and written lately are also kept in memory (`cache`, least recently used
first out), bounded by `cache_bytes` of their real size in memory - not their encoded size:
a tuple of floats takes about 4x its pickle, a dict of small strings 10-20x (`real_size`).
What a reader gets:
- a value that cannot change (numbers, strings, bytes, tuples and frozensets of them) is
  shared: every `get()` returns the one decoded object;
- a numpy array or a memoryview is shared too, as a new read-only view of read-only memory
  (the encoded value's own buffer, a received frame, a map of the store's file): no copy,
  and nothing a program does to it reaches the Ref - writing to it raises, as for Ray's
  arrays; `array.copy()` gives a writable one;
- any other value (a list, a dict, an object, a bytearray) is decoded again from its encoded
  form, kept in memory, on every `get()`: each reader gets a private copy (buffers inside it
  copied, so arrays in a list are the reader's own), as on any other node.
A value decoded for a reader is kept if it fits in the whole bound (the others are put out,
least recently used first); a larger one is not kept, and each read decodes it again from the
store (a numpy array in a store file is mapped, not read). A shared value whose encoded form
is large (KEEP_ENCODED bytes or more, bulkfiles.FILE_MIN: the store keeps it in a file and
maps it) is kept decoded alone, its encoded form read from the store when a fetch or a
relocation needs it. `decoded` counts the reads that decoded a value (not in the cache, or a
private copy), `too_large` the values not kept; the node's `status?` answer has both, with
the cache's contents (`cache`).

Discussion: the bound. A read of a value that is not kept decodes it anyway - its memory is
taken for as long as the reader holds it - and then drops it, so that the next read pays the
whole decoding again (a tuple of 13 million floats: 1.2 s, against 40 ms to sum it). Keeping
anything up to the whole bound (not half of it, as before) and not holding a large encoded
form beside its decoded value (which took a 100 MiB tuple of floats from 420 MB to 537 MB,
just over half of 1 GiB) keeps a 100 or 200 MiB tuple of floats decoded under the default
1 GiB (docs/nodes.md says why the default stays 1 GiB). Memory stays bounded: `cache_bytes`
of values kept, plus what readers hold and writes not yet on disk.

Discussion: sharing a mutable object between the programs of one node would make a change
without `set()` visible here but lost elsewhere (and at the next restart); only values that
cannot change, or that refuse to, are shared.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from typing import Callable, Protocol

from swarm.node.machine.txn import Txns, Versions

_ATOMIC = frozenset({int, float, complex, str, bytes, bool, type(None), range})
_UNSHARED = object()  # a cache entry whose readers each get a private copy
KEEP_ENCODED = 4 << 20  # a shared value's encoded form from this size on is not kept with it


class Reader(Protocol):
    """What the machine reads of the store (swarm/node/store.py; the simulator's disk)."""

    def get_ref(self, ref_id: str) -> bytes | None: ...

    def has_ref(self, ref_id: str) -> bool: ...

    def ref_size(self, ref_id: str) -> int: ...

    def forward(self, ref_id: str) -> str | None: ...

    def all_refs(self): ...  # (id, encoded value) of every Ref (a collection's mark: gc.py)

    def moves_under_way(self) -> list[str]: ...

    def held_blobs(self): ...  # hops in the inbox and outbox, kept results (gc.py)


def shareable(value, depth: int = 0) -> bool:
    """Whether a value can never change (so readers may share one object)."""
    t = type(value)
    if t in _ATOMIC:
        return True
    if (t is tuple or t is frozenset) and depth < 16:
        atomic = _ATOMIC
        if atomic.issuperset(map(type, value)):  # (a loop in C: 13 million floats in 0.3 s)
            return True
        return all(type(x) in atomic or shareable(x, depth + 1) for x in value)
    return False


def is_buffer_view(value) -> bool:
    """A numpy array or a memoryview: shared by readers as read-only views."""
    t = type(value)
    return t is memoryview or (t.__name__ == "ndarray" and t.__module__ == "numpy")


def reader_view(value):
    """What one reader gets of a shared value: the value itself, or for an array a new
    view (its shape or dtype set by one reader must not change another's)."""
    if type(value).__name__ == "ndarray":
        return value.view()
    return value


_SAMPLE = 64  # elements of a large container actually measured (the rest: extrapolated)


def real_size(value, depth: int = 0) -> int:
    """About the bytes a decoded value takes in memory: sys.getsizeof of it and of what it
    holds, measured on a sample of each large container and extrapolated (a tuple of ten
    million floats is not walked). Shared objects count once per reference: an
    overestimate, which keeps the cache within its bound."""
    size = sys.getsizeof(value, 64)
    if depth > 8:
        return size
    t = type(value)
    if t in _ATOMIC:
        return size
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):  # an array or a memoryview: its buffer
        return size + nbytes if getattr(value, "base", None) is not None or t is memoryview \
            else size
    if t is dict:
        items = value.items()
    elif t in (list, tuple, set, frozenset):
        items = value
    else:
        inner = getattr(value, "__dict__", None)
        return size if inner is None else size + real_size(inner, depth + 1)
    n = len(value)
    if n == 0:
        return size
    total = 0
    for i, item in enumerate(items):
        if i == _SAMPLE:
            break
        if t is dict:
            total += real_size(item[0], depth + 1) + real_size(item[1], depth + 1)
        else:
            total += real_size(item, depth + 1)
    return size + total * n // min(n, _SAMPLE)


class Writes:
    """Ref writes staged since the last transaction (RefData.take_staged)."""

    __slots__ = ("values", "forwards", "moves", "moved", "blocks")

    def __init__(self, values, forwards, moves, moved, blocks=None) -> None:
        self.values: dict = values  # ref id -> encoded value, None: gone
        self.forwards: dict[str, str] = forwards  # ref id -> node it moved to
        self.moves: dict[str, str] = moves  # relocations started: ref id -> node
        self.moved: list[str] = moved  # relocations done (their `moves` mark goes)
        # atomic blocks' prepares and decisions: (kind, block) -> record, None: gone (txn.py)
        self.blocks: dict = {} if blocks is None else blocks

    def merge(self, later: Writes) -> None:
        for ref_id in later.values:
            self.forwards.pop(ref_id, None)
        self.values.update(later.values)
        self.forwards.update(later.forwards)
        self.moves.update(later.moves)
        self.moved += later.moved
        self.blocks.update(later.blocks)

    def __bool__(self) -> bool:
        return bool(self.values or self.forwards or self.moves or self.moved or self.blocks)


class RefData:
    def __init__(self, reader: Reader, dumps: Callable, loads: Callable,
                 cache_bytes: int = 1 << 30, private: Callable | None = None,
                 nbytes: Callable = len, version_tag: str = "") -> None:
        """`dumps`/`loads`: how values become their stored form and back (the shell gives
        swarm/wire/values.py's encode and decode; the simulator the codec's dumps and
        loads). `private(blob)`: a reader's own copy of a value that is not shared
        (default: loads). `nbytes(blob)`: an encoded value's size. `version_tag`: this
        incarnation of the node, in every version of its Refs (txn.py)."""
        self.reader, self.dumps, self.loads = reader, dumps, loads
        self.private = private or loads
        self.nbytes = nbytes
        # ref id -> [shared value or _UNSHARED, encoded value, bytes counted]
        self.cache: OrderedDict[str, list] = OrderedDict()
        self.cache_bytes = cache_bytes
        self.cached = 0
        self.decoded = 0  # reads that decoded a value from its encoded form (status?)
        self.too_large = 0  # values decoded and not kept: larger than the whole bound
        self.staged: dict = {}  # ref id -> encoded value (None: deleted), not yet committed
        # writes handed to the store and not yet on disk (a write under way, or one that
        # failed and waits to be tried again): still what readers here must see
        self.pending: list[Writes] = []
        self.staged_forwards: dict[str, str] = {}
        self.staged_moves: dict[str, str] = {}
        self.staged_moved: list[str] = []
        # the segment running now (the hop its program resumed from; None: the node's own
        # code), set by the shell as programs switch in and out; and, by segment, the Refs
        # it wrote since the last take_staged (the ledger: a segment cut before its end)
        self.segment: str | None = None
        self.writers: dict[str, list[str]] = {}
        self.unsaved: set[str] = set()  # segments that wrote and have not ended (cut)
        # ref id -> callbacks run when its relocation finished (accesses wait meanwhile)
        self.moving: dict[str, list] = {}
        # future id -> callbacks run when its result is stored
        self.awaiting: dict[str, list] = {}
        # every change of a Ref here gives it a new version; atomic blocks' commits (txn.py)
        self.versions = Versions(version_tag)
        self.txns = Txns(self.versions)

    def dirty(self) -> bool:
        """Is a write staged (not yet handed to the store)? (`pending`: handed, not yet on
        disk - the ledger tracks those.)"""
        return bool(self.staged or self.staged_forwards or self.staged_moves
                    or self.staged_moved or self.txns.staged)

    # values ---------------------------------------------------------------------------------
    def _in_flight(self, ref_id: str):
        """(found, blob or None, forward or None) from the writes not yet on disk. (A Ref
        that moved away is in both `values`, gone, and `forwards`: its forward is the answer,
        as from `staged_forwards` before.)"""
        for writes in reversed(self.pending):
            if ref_id in writes.forwards:
                return True, None, writes.forwards[ref_id]
            if ref_id in writes.values:
                return True, writes.values[ref_id], None
        return False, None, None

    def settled(self, ref_id: str) -> bool:
        """Is what a read of the Ref sees on disk (no write of it staged or in flight)?"""
        return not (ref_id in self.staged or ref_id in self.staged_forwards
                    or self.pending and self._in_flight(ref_id)[0])

    def has(self, ref_id: str) -> bool:
        if ref_id in self.staged:
            return self.staged[ref_id] is not None
        if ref_id in self.staged_forwards:
            return False
        if self.pending:
            found, blob, _ = self._in_flight(ref_id)
            if found:
                return blob is not None
        return ref_id in self.cache or self.reader.has_ref(ref_id)

    def read(self, ref_id: str):
        """The value, as a reader may have it (see the module's doc: shared, or a copy)."""
        hit = self.cache.get(ref_id)
        if hit is None:
            blob = self.blob(ref_id)
            if blob is None:
                raise KeyError(ref_id)
            value = self.loads(blob)
            self.decoded += 1
            shared = value if shareable(value) or is_buffer_view(value) else _UNSHARED
            hit = self._remember(ref_id, shared, blob, value)
            if shared is _UNSHARED:
                return value  # decoded for this reader alone
        else:
            self.cache.move_to_end(ref_id)
        if hit[0] is _UNSHARED:
            self.decoded += 1
            return self.private(hit[1])
        return reader_view(hit[0])

    def blob(self, ref_id: str):
        """The encoded value (None: not here)."""
        hit = self.cache.get(ref_id)
        if hit is not None and hit[1] is not None:
            return hit[1]
        if ref_id in self.staged:
            return self.staged[ref_id]
        if ref_id in self.staged_forwards:
            return None
        if self.pending:
            found, blob, _ = self._in_flight(ref_id)
            if found:
                return blob
        return self.reader.get_ref(ref_id)

    def size(self, ref_id: str) -> int:
        """The encoded value's size (what fetching it moves)."""
        hit = self.cache.get(ref_id)
        if hit is not None and hit[1] is not None:
            return self.nbytes(hit[1])
        if ref_id in self.staged or ref_id in self.staged_forwards:
            blob = self.staged.get(ref_id)
        elif self.pending and self._in_flight(ref_id)[0]:
            blob = self._in_flight(ref_id)[1]
        else:
            return self.reader.ref_size(ref_id)
        if blob is None:
            raise KeyError(ref_id)
        return self.nbytes(blob)

    def forward(self, ref_id: str) -> str | None:
        """Where a Ref that moved away went (None: it did not, as far as this node knows)."""
        if ref_id in self.staged_forwards:
            return self.staged_forwards[ref_id]
        if ref_id in self.staged:
            return None
        if self.pending:
            found, _, forward = self._in_flight(ref_id)
            if found:
                return forward
        return self.reader.forward(ref_id)

    def write(self, ref_id: str, value, blob=None, fresh: bool = False) -> None:
        """Stage a value (committed with the ledger's next write; see the module's doc).
        Encoding it may raise (a value over the cluster's limit, one that cannot be
        stored): then nothing is staged, and the program's `Ref(...)` or `set` raises.
        `fresh`: a new Ref's first value - not counted as its segment's write (`writers`):
        made again by the segment run again, it is another Ref, the first one garbage."""
        blob = self.dumps(value) if blob is None else blob
        self.staged[ref_id] = blob
        if self.segment is not None and not fresh:
            self._wrote(ref_id)
        self.staged_forwards.pop(ref_id, None)
        self._forget(ref_id)
        self.versions.bump(ref_id)
        if is_buffer_view(value):  # shared as views of the encoded copy, not of the
            self._remember(ref_id, self.loads(blob), blob)  # program's own memory
        else:
            self._remember(ref_id, value if shareable(value) else _UNSHARED, blob, value)

    def write_blob(self, ref_id: str, blob) -> None:
        self.staged[ref_id] = blob
        if self.segment is not None:
            self._wrote(ref_id)
        self.staged_forwards.pop(ref_id, None)
        self._forget(ref_id)
        self.versions.bump(ref_id)

    def delete(self, ref_id: str) -> None:
        self.staged[ref_id] = None
        if self.segment is not None:
            self._wrote(ref_id)
        self._forget(ref_id)
        self.versions.bump(ref_id)

    def start_move(self, ref_id: str, node: str) -> None:
        """A relocation of `ref_id` to `node` begins (a restart goes on with it)."""
        self.staged_moves[ref_id] = node

    def moved_out(self, ref_id: str, node: str) -> None:
        """The Ref is safely on `node`: forget it here, and point there."""
        self.staged[ref_id] = None
        self.staged_forwards[ref_id] = node
        self.staged_moves.pop(ref_id, None)
        self.staged_moved.append(ref_id)
        self._forget(ref_id)
        self.versions.bump(ref_id)

    def segment_wrote(self, what: str) -> None:
        """The running segment made a durable change that is not a Ref's (an atomic block's
        decision to commit: txnserve.py): run again after a crash it would make it twice,
        so it counts as one of its writes (`writers`: ledger.py, a segment cut mid-way)."""
        if self.segment is not None:
            self._wrote(what)

    def _wrote(self, ref_id: str) -> None:
        refs = self.writers.get(self.segment)
        if refs is None:
            self.writers[self.segment] = [ref_id]
            self.unsaved.add(self.segment)
        elif len(refs) < 3:  # (enough to name them in an error)
            refs.append(ref_id)

    def take_writers(self) -> dict[str, list[str]]:
        """segment -> (up to 3 of) the Refs it wrote since the last call (ledger.py: cut)."""
        writers, self.writers = self.writers, {}
        return writers

    def take_staged(self) -> Writes | None:
        """The writes since the last call, for the ledger's next unit (ledger.py: cut)."""
        if not (self.staged or self.staged_forwards or self.staged_moves or self.staged_moved
                or self.txns.staged):
            return None
        writes = Writes(self.staged, self.staged_forwards, self.staged_moves,
                        self.staged_moved, self.txns.take_staged())
        self.staged, self.staged_forwards, self.staged_moves = {}, {}, {}
        self.staged_moved = []
        self.pending.append(writes)
        return writes

    def on_disk(self, writes: Writes | None) -> None:
        """These writes are committed: readers find them in the store now."""
        if writes is not None:
            self.pending = [w for w in self.pending if w is not writes]

    def _remember(self, ref_id: str, shared, blob, value=None) -> list:
        """Keep a value in the cache, counted at its real size (see the module's doc)."""
        size = self.nbytes(blob)
        if shared is _UNSHARED:
            cost = size  # only the encoded value is kept
        elif is_buffer_view(shared):
            cost = size  # the views sit on the encoded value's memory
        elif size >= KEEP_ENCODED:  # the decoded value alone: the store has the rest
            cost, blob = real_size(shared), None
        else:
            cost = size + real_size(shared)
        entry = [shared, blob, cost]
        if cost > self.cache_bytes:
            self.too_large += 1
            return entry
        self.cache[ref_id] = entry
        self.cached += cost
        while self.cached > self.cache_bytes:
            _, old = self.cache.popitem(last=False)
            self.cached -= old[2]
        return entry

    def cache_status(self) -> dict:
        """The value cache, for the node's `status?` answer: values and bytes kept (real
        size), the bound, reads that decoded a value, values too large to keep."""
        return {"values": len(self.cache), "bytes": self.cached, "bound": self.cache_bytes,
                "decoded": self.decoded, "too_large": self.too_large}

    def _forget(self, ref_id: str) -> None:
        hit = self.cache.pop(ref_id, None)
        if hit is not None:
            self.cached -= hit[2]

    # waiting --------------------------------------------------------------------------------
    @staticmethod
    def notify(waiters: dict, key: str) -> None:
        for callback in waiters.pop(key, ()):
            callback()
