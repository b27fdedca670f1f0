"""Collection operations inside an atomic block (txnserve.py; the collection's layout:
colldata.py).

Outside blocks an operation runs as steps on the nodes of the Refs it touches
(collserve.py). Inside a block the same Refs are read and written as the block's own Refs,
with their versions, so anything another program changed meanwhile in what the block read
makes it conflict:

- a Dict: the root, the key's shard (its index: key -> element Ref) and the element. A new
  key's element gets its id in the block and is created by the commit, on its shard's
  node, with the index entry that names it. `get`, `set`, `update`, `increment`, `pop`,
  `in`, `d[k]`, `d[k] = v`, `del d[k]`, `len(d)` (every shard read);
- a Set: the member's shard. `in`, `add`, `discard`, `remove`, `len(s)` (every shard);
- a List: the root (its tail chunk) and the chunk of the index. `append` (the root and the
  tail chunk read; a full chunk moves the tail on, in the block), `get`, `l[i]`, `set`,
  `l[i] = v`, `len(l)` (the root and the tail chunk).

Iterating a collection (and a List's slices) are refused (RuntimeError): they read parts
that the block does not name one by one.
"""

from __future__ import annotations

import itertools

from swarm.node import txnserve
from swarm.node.colldata import DEFAULT_CHUNK, DEFAULT_SHARDS, MEMO, CollOp, shard_id
from swarm.node.collserve import call_update_fn
from swarm.wire import values

IN_BLOCKS = {"dict": frozenset({"get", "set", "update", "pop", "contains", "len"}),
             "set": frozenset({"contains", "add", "discard", "remove", "len"}),
             "list": frozenset({"append", "get", "set", "len"})}
_new_ids = itertools.count(1)


class _Part:
    """A Ref of the collection, as the block's reads and writes take it (an id and a hint)."""

    __slots__ = ("id", "hint")

    def __init__(self, ref_id: str, hint: str | None = None) -> None:
        self.id, self.hint = ref_id, hint or MEMO.hint(ref_id)


def run(node, txn, pending) -> CollOp:
    """Do `pending`'s op inside the block; the op comes back done (as collserve.drive's
    does: `out`, `missing`, `err`)."""
    op = pending.op
    if op.action not in IN_BLOCKS[op.kind]:
        what = f"a swarm.{op.kind.capitalize()}"
        txnserve.refuse(f"iterating {what}" if op.action == "iter" else
                        f"a slice of {what}" if op.action == "slice" else
                        f"{what}'s {op.action}()")
    parts = BlockParts(node, txn)
    meta = meta_of(parts, op)
    if op.done:
        return op
    if op.kind == "list":
        return list_op(parts, op, meta)
    if op.action == "len":
        op.finish(sum(len(parts.read(shard_id(op.name, op.nodes, j)) or {})
                      for j in range(op.param)))
        return op
    if op.kind == "set":
        return set_op(parts, op)
    shard = _Part(op.shard(op.kb))
    index = txnserve.read(node, txn, shard, None) or {}
    entry = index.get(op.kb)
    element = None if entry is None else _Part(entry[1], shard.hint)
    old = None if element is None else txnserve.read(node, txn, element, _NONE)
    if old is _NONE:  # (an index entry whose element is gone: a pop under way)
        element = old = None
    action = op.action
    if action == "contains":
        op.finish(element is not None)
    elif action in ("get", "pop") and element is None:
        op.finish(missing=True)
    elif action == "get":
        op.finish(values.encode(old))
    elif action == "pop":
        txnserve.write(node, txn, element, txnserve.DELETED)
        index = dict(index)
        del index[op.kb]
        txnserve.write(node, txn, shard, index)
        op.finish(values.encode(old))
    else:  # set, update, increment
        if action == "set":
            new = values.decode(op.blob)
        else:
            fn = pending.fn or op.fn
            new = call_update_fn(fn, values.decode(op.blob) if element is None else old)
        if element is None:  # a new key: its element, on its shard's node
            element = _Part(f"{shard.hint}.{txn.id.rsplit('/', 1)[1]}.{next(_new_ids)}",
                            shard.hint)
            index = dict(index)
            index[op.kb] = (op.key, element.id)
            txnserve.write(node, txn, shard, index)
        txnserve.write(node, txn, element, new)
        op.finish(None if action == "set" else new)
    return op


_NONE = object()


class BlockParts:
    """The collection's Refs as a block reads and writes them (txnserve.read, write): by id.
    (The simulator gives its own: tests/sim/atomic.py.)"""

    def __init__(self, node, txn) -> None:
        self.node, self.txn = node, txn

    def read(self, ref_id: str):
        """The Ref's value in the block, or None if it does not exist."""
        return txnserve.read(self.node, self.txn, _Part(ref_id), None)

    def write(self, ref_id: str, value) -> None:
        txnserve.write(self.node, self.txn, _Part(ref_id), value)


def meta_of(parts, op: CollOp) -> dict:
    """The collection's root: its kind and layout (a List's tail too), read in the block -
    or, for a Dict or Set, from the memo (its kind and shards never change). A new
    collection is created by the block's commit. A root of another kind fails the op."""
    known = MEMO.meta.get(op.root) if op.kind != "list" else None
    if known is not None:
        meta = {"kind": known[0], "param": known[1]}
    else:
        meta = parts.read(op.root)
        if meta is None:  # a new collection: the block creates it
            meta = {"kind": op.kind, "param": op.param or (
                DEFAULT_CHUNK if op.kind == "list" else DEFAULT_SHARDS)}
            if op.kind == "list":
                meta["tail"] = 0
            parts.write(op.root, meta)
    if meta["kind"] != op.kind:
        op.fail("TypeError", f"{op.name!r} is a swarm.{meta['kind'].capitalize()}, not a "
                             f"swarm.{op.kind.capitalize()}")
    elif op.param is not None and op.param != meta["param"]:
        what = "values per chunk" if op.kind == "list" else "shards"
        op.fail("ValueError", f"{op.name!r} was created with {meta['param']} {what}, not "
                              f"{op.param}")
    else:
        op.param = meta["param"]
    return meta


def set_op(parts, op: CollOp) -> CollOp:
    """A Set's member, in its shard (read in the block; written if it changes)."""
    shard = op.shard(op.kb)
    members = parts.read(shard) or {}
    present = op.kb in members
    if op.action == "contains":
        op.finish(present)
    elif op.action == "remove" and not present:
        op.fail("KeyError", op.key)
    elif (op.action == "add") != present:  # (an add of a member, a discard of none: as is)
        members = dict(members)
        if present:
            del members[op.kb]
        else:
            members[op.kb] = op.key
        parts.write(shard, members)
        op.finish()
    else:
        op.finish()
    return op


def list_op(parts, op: CollOp, meta: dict) -> CollOp:
    """A List's append, get, set or len: the root's tail and the chunks, read in the block
    (a new List's root is written by it)."""
    size, tail = op.param, meta.get("tail", 0)
    if op.action == "append":
        while True:
            chunk = op.chunk(tail)
            values_ = parts.read(chunk) or []
            if len(values_) < size:
                break
            tail += 1  # a full chunk: the tail moves on (as collserve._advance)
            parts.write(op.root, dict(meta, tail=tail))
        parts.write(chunk, list(values_) + [op.blob])
        op.finish(tail * size + len(values_))
        return op
    index = op.key
    if op.action == "len" or index < 0:
        n = tail * size + len(parts.read(op.chunk(tail)) or [])
        if op.action == "len":
            op.finish(n)
            return op
        index += n
    values_ = [] if index < 0 else parts.read(op.chunk(index // size)) or []
    at = index % size
    if index < 0 or at >= len(values_):
        op.fail("IndexError", "swarm.List index out of range")
    elif op.action == "get":
        op.finish(values_[at])
    else:
        values_ = list(values_)
        values_[at] = op.blob
        parts.write(op.chunk(index // size), values_)
        op.finish()
    return op
