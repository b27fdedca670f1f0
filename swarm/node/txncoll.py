"""A Dict's operations inside an atomic block (txnserve.py; the collection's layout:
colldata.py).

Outside blocks a Dict operation runs as steps on the nodes of the Refs it touches
(collserve.py). Inside a block the same Refs - the collection's root, the key's shard (its
index: key -> element Ref) and the element - are read and written as the block's own Refs,
with their versions: a key added, changed or removed by anyone else meanwhile makes the
block conflict. A new key's element gets its id in the block and is created by the commit,
on its shard's node, with the index entry that names it.

In blocks: `get`, `set`, `update`, `increment`, `pop`, `in`, `d[k]`, `d[k] = v`, `del d[k]`.
Iterating, `len`, and Lists and Sets are refused (RuntimeError).
"""

from __future__ import annotations

import itertools

from swarm.node import txnserve
from swarm.node.colldata import DEFAULT_SHARDS, MEMO, CollOp
from swarm.node.collserve import call_update_fn
from swarm.wire import values

_IN_BLOCKS = ("get", "set", "update", "pop", "contains")
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
    if op.kind != "dict" or op.action not in _IN_BLOCKS:
        what = f"a swarm.{op.kind.capitalize()}"
        txnserve.refuse(f"iterating {what}, or its len()" if op.action in ("len", "iter")
                        else what)
    known = MEMO.meta.get(op.root)  # (a collection's kind and shards never change)
    if known is not None:
        meta = {"kind": known[0], "param": known[1]}
    else:
        root = _Part(op.root)
        meta = txnserve.read(node, txn, root, None)
        if meta is None:  # a new Dict: the block creates it
            meta = {"kind": "dict", "param": op.param or DEFAULT_SHARDS}
            txnserve.write(node, txn, root, meta)
    if meta["kind"] != "dict":
        op.fail("TypeError", f"{op.name!r} is a swarm.{meta['kind'].capitalize()}, not a "
                             f"swarm.Dict")
        return op
    if op.param is not None and op.param != meta["param"]:
        op.fail("ValueError", f"{op.name!r} was created with {meta['param']} shards, not "
                              f"{op.param}")
        return op
    op.param = meta["param"]
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
