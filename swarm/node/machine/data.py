"""The Refs that live on this node: their values, relocations in flight, futures awaited.

Values are kept in the node's store (pickled by the codec); the machine reads the store
through `reader` (the shell's SQLite store, or the simulator's disk). A write is staged in
memory (`staged`: ref id -> pickled value, or None for a deletion), seen at once by every
reader on this node, and committed with the hop ledger's next write (ledger.py): in the same
transaction as the hop that brought the program and the hop it sends on, so that a crash
keeps both or neither. Until then nothing leaves the node (NodeState holds every message). A
relocation's marks - started, done (the value gone, a forward left) - are staged the same
way.

A value that cannot change - numbers, strings, bytes, and tuples or frozensets of them - is
also kept decoded in memory (least recently used first out, bounded by `cache_bytes`): a
program that moved to a 100 MiB tuple reads it without unpickling a byte. Any other value is
unpickled on every read, so that each `get()` returns a private copy, as on any other node.

Discussion: sharing a mutable object between the programs of one node would make a change
without `set()` visible here but lost elsewhere (and at the next restart); only values that
cannot change are shared.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Protocol

_ATOMIC = frozenset({int, float, complex, str, bytes, bool, type(None), range})


class Reader(Protocol):
    """What the machine reads of the store (swarm/node/store.py; the simulator's disk)."""

    def get_ref(self, ref_id: str) -> bytes | None: ...

    def has_ref(self, ref_id: str) -> bool: ...

    def ref_size(self, ref_id: str) -> int: ...

    def forward(self, ref_id: str) -> str | None: ...


def shareable(value, depth: int = 0) -> bool:
    """Whether a value can never change (so readers may share one object)."""
    t = type(value)
    if t in _ATOMIC:
        return True
    if (t is tuple or t is frozenset) and depth < 16:
        atomic = _ATOMIC
        return all(type(x) in atomic or shareable(x, depth + 1) for x in value)
    return False


class Writes:
    """Ref writes staged since the last transaction (RefData.take_staged)."""

    __slots__ = ("values", "forwards", "moves", "moved")

    def __init__(self, values, forwards, moves, moved) -> None:
        self.values: dict[str, bytes | None] = values  # ref id -> pickled value, None: gone
        self.forwards: dict[str, str] = forwards  # ref id -> node it moved to
        self.moves: dict[str, str] = moves  # relocations started: ref id -> node
        self.moved: list[str] = moved  # relocations done (their `moves` mark goes)

    def merge(self, later: Writes) -> None:
        for ref_id in later.values:
            self.forwards.pop(ref_id, None)
        self.values.update(later.values)
        self.forwards.update(later.forwards)
        self.moves.update(later.moves)
        self.moved += later.moved

    def __bool__(self) -> bool:
        return bool(self.values or self.forwards or self.moves or self.moved)


class RefData:
    def __init__(self, reader: Reader, dumps: Callable, loads: Callable,
                 cache_bytes: int = 1 << 30) -> None:
        """`dumps`/`loads`: how values become bytes and back (the shell gives the codec's:
        swarm/continuation/codec.py)."""
        self.reader, self.dumps, self.loads = reader, dumps, loads
        self.cache: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self.cache_bytes = cache_bytes
        self.cached = 0
        self.staged: dict[str, bytes | None] = {}  # written, not yet committed
        # writes handed to the store and not yet on disk (a write under way, or one that
        # failed and waits to be tried again): still what readers here must see
        self.pending: list[Writes] = []
        self.staged_forwards: dict[str, str] = {}
        self.staged_moves: dict[str, str] = {}
        self.staged_moved: list[str] = []
        # ref id -> callbacks run when its relocation finished (accesses wait meanwhile)
        self.moving: dict[str, list] = {}
        # future id -> callbacks run when its result is stored
        self.awaiting: dict[str, list] = {}

    def dirty(self) -> bool:
        """Is a write staged (not yet handed to the store)? (`pending`: handed, not yet on
        disk - the ledger tracks those.)"""
        return bool(self.staged or self.staged_forwards or self.staged_moves
                    or self.staged_moved)

    # values ---------------------------------------------------------------------------------
    def _in_flight(self, ref_id: str):
        """(found, blob or None, forward or None) from the writes not yet on disk."""
        for writes in reversed(self.pending):
            if ref_id in writes.values:
                return True, writes.values[ref_id], None
            if ref_id in writes.forwards:
                return True, None, writes.forwards[ref_id]
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
        hit = self.cache.get(ref_id)
        if hit is not None:
            self.cache.move_to_end(ref_id)
            return hit[0]
        blob = self.blob(ref_id)
        if blob is None:
            raise KeyError(ref_id)
        value = self.loads(blob)
        self._remember(ref_id, value, len(blob))
        return value

    def blob(self, ref_id: str) -> bytes | None:
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
        hit = self.cache.get(ref_id)
        if hit is not None:
            return hit[1]
        if ref_id in self.staged or ref_id in self.staged_forwards:
            blob = self.staged.get(ref_id)
        elif self.pending and self._in_flight(ref_id)[0]:
            blob = self._in_flight(ref_id)[1]
        else:
            return self.reader.ref_size(ref_id)
        if blob is None:
            raise KeyError(ref_id)
        return len(blob)

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

    def write(self, ref_id: str, value, blob: bytes | None = None) -> None:
        """Stage a value (committed with the ledger's next write; see the module's doc)."""
        blob = self.dumps(value) if blob is None else blob
        self.staged[ref_id] = blob
        self.staged_forwards.pop(ref_id, None)
        self._forget(ref_id)
        self._remember(ref_id, value, len(blob))

    def write_blob(self, ref_id: str, blob: bytes) -> None:
        self.staged[ref_id] = blob
        self.staged_forwards.pop(ref_id, None)
        self._forget(ref_id)

    def delete(self, ref_id: str) -> None:
        self.staged[ref_id] = None
        self._forget(ref_id)

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

    def take_staged(self) -> Writes | None:
        """The writes since the last call, for the ledger's transaction."""
        if not (self.staged or self.staged_forwards or self.staged_moves or self.staged_moved):
            return None
        writes = Writes(self.staged, self.staged_forwards, self.staged_moves,
                        self.staged_moved)
        self.staged, self.staged_forwards, self.staged_moves = {}, {}, {}
        self.staged_moved = []
        self.pending.append(writes)
        return writes

    def merged(self, later: Writes) -> None:
        """`later` was merged into an earlier pending write (a retry after a failure)."""
        self.pending = [w for w in self.pending if w is not later]

    def on_disk(self, writes: Writes | None) -> None:
        """These writes are committed: readers find them in the store now."""
        if writes is not None:
            self.pending = [w for w in self.pending if w is not writes]

    def _remember(self, ref_id: str, value, size: int) -> None:
        if size > self.cache_bytes // 2 or not shareable(value):
            return
        self.cache[ref_id] = (value, size)
        self.cached += size
        while self.cached > self.cache_bytes:
            _, (_, old) = self.cache.popitem(last=False)
            self.cached -= old

    def _forget(self, ref_id: str) -> None:
        hit = self.cache.pop(ref_id, None)
        if hit is not None:
            self.cached -= hit[1]

    # waiting --------------------------------------------------------------------------------
    @staticmethod
    def notify(waiters: dict, key: str) -> None:
        for callback in waiters.pop(key, ()):
            callback()
