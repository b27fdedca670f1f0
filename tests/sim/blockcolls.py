"""Sets and Lists inside atomic blocks, in the atomic blocks' simulator (tests/sim/atomic.py,
`colls=True`): what an *appender* block does - `n = len(l); l.append(n); s.add(n)` - by the
node's own code for collections in blocks (swarm/node/txncoll.py), over the run's reads and
writes; and what must hold at the end."""

from __future__ import annotations

from swarm.continuation import codec
from swarm.node import txncoll
from swarm.node.colldata import CollOp, key_bytes, shard_id

SHARDS = 3  # the Set's
NODES = ["n1", "n2", "n3"]  # (atomic.NODES)


class Down(Exception):
    """A block's read found the Ref's node down (it asks again later)."""


class Parts:
    """A block's reads and writes of a collection's Refs, as txncoll.BlockParts makes them
    on real nodes: read where each lives (with its version), written in the block."""

    def __init__(self, run) -> None:
        self.run = run
        self.reads: dict = {}  # ref id -> the version read
        self.values: dict = {}  # ref id -> the value read (None: it does not exist)
        self.writes: dict = {}

    def read(self, ref_id: str):
        if ref_id in self.writes:
            return codec.loads(codec.dumps(self.writes[ref_id]))
        if ref_id not in self.values:
            node = self.run._part(ref_id)
            if not self.run.up[node]:
                raise Down(ref_id)
            data = self.run.data[node]
            self.reads[ref_id] = data.versions.version(ref_id)
            self.values[ref_id] = data.read(ref_id) if data.has(ref_id) else None
        value = self.values[ref_id]
        return None if value is None else codec.loads(codec.dumps(value))

    def write(self, ref_id: str, value) -> None:
        self.run._part(ref_id)
        self.writes[ref_id] = value


def _op(kind: str, action: str, key=None, blob: bytes | None = None) -> CollOp:
    op = CollOp(kind, "sim." + kind, 2 if kind == "list" else SHARDS, action, key, blob)
    if kind == "set":
        op.kb = key_bytes(key)
    op.names(NODES)
    return op


def _run_op(parts: Parts, op: CollOp):
    """An operation in a block, by txncoll.py's own code; its result."""
    meta = txncoll.meta_of(parts, op)
    if not op.done:
        (txncoll.list_op if op.kind == "list" else txncoll.set_op)(parts, op, *(
            (meta,) if op.kind == "list" else ()))
    if op.err is not None:
        raise AssertionError(f"{op!r}: {op.err}")
    return op.out


def append_len(parts: Parts) -> int:
    n = _run_op(parts, _op("list", "len"))
    _run_op(parts, _op("list", "append", blob=codec.dumps(n)))
    _run_op(parts, _op("set", "add", n))
    return n


def _list_values(parts: Parts) -> list:
    op = _op("list", "len")
    out, c = [], 0
    while (chunk := parts.read(op.chunk(c))) is not None:
        out += chunk
        c += 1
    return out




def violations(run) -> list[str]:
    """The List is 0, 1, 2... - one value per committed appender - and the Set holds
    exactly its values."""
    parts = Parts(run)
    values = [codec.loads(b) for b in _list_values(parts)]
    found = []
    if values != list(range(len(values))) or sorted(run.appended.values()) != values:
        found.append(f"the List is {values}: the appenders committed "
                     f"{sorted(run.appended.values())}")
    members = set()
    for j in range(SHARDS):
        members.update((parts.read(shard_id("sim.set", list(run.data), j)) or {}).values())
    if members != set(values):
        found.append(f"the Set is {sorted(members)}, the List {values}")
    return found
