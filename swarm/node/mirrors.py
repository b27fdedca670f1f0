"""The copies of other nodes' stores this node keeps, as their mirror (docs/nodes.md, "Copies
of a node's store"): `<dir>/mirrors/<node>/store.sqlite` and its `values/`.

A node's mirror is the next live node after it in cluster order (config.mirror_of). The
node sends it a record of every commit (records.py); the mirror replays the record on its
copy if it is the next one and answers with the number of the last record its copy holds:

    mirror    node -> its mirror   {seq, stmts, log, files}, a frame per file
    mirror    node -> its mirror   {seq, probe: true}            (what do you hold?)
    snapshot  node -> its mirror   {seq, files}, frames [database, *files]   (the whole store)
    mirrored  mirror -> node       {seq, have, gap}   (gap: the copy was not at seq - 1, so
                                                       the record was refused; a probe: the
                                                       copy is not at seq. Send a snapshot)
    restore?  node -> its mirror   {}     (the node's store is new: was it lost?)
    restore   mirror -> node       {seq, files, copy: bool, new: bool}, frames [database,
                                    *files] when it has a copy (new: this node's own store
                                    is new too)

The node's side of the protocol (when a commit counts as kept) is the machine's
(machine/mirror.py); this module only keeps the copies. A copy is changed only by the node it
copies (the sender, checked by the gate's signature) and only on the node that is its mirror.
"""

from __future__ import annotations

import logging
import os
import shutil

from swarm.node.records import Record
from swarm.node.store import Store, install_copy

log = logging.getLogger("swarm.node")


class Mirrors:
    def __init__(self, directory: str, name: str, config) -> None:
        self.dir = os.path.join(directory, "mirrors")
        self.name, self.config = name, config
        self.copies: dict[str, Store] = {}
        self.stats = {"records": 0, "refused": 0, "snapshots": 0, "restores": 0}

    def copies_for(self, node: str, fenced=()) -> bool:
        """Whether this node is `node`'s mirror now (the cluster file says who is whose, and
        which nodes were declared gone)."""
        return self.config.mirror_of(node, fenced) == self.name

    def _copy(self, node: str) -> Store:
        copy = self.copies.get(node)
        if copy is None:
            path = os.path.join(self.dir, node)
            os.makedirs(path, mode=0o700, exist_ok=True)
            copy = self.copies[node] = Store(os.path.join(path, "store.sqlite"))
        return copy

    def has(self, node: str) -> bool:
        return node in self.copies or os.path.exists(
            os.path.join(self.dir, node, "store.sqlite"))

    # ---- messages -------------------------------------------------------------------------
    def take(self, sender: str, fields: dict, blobs: list) -> dict:
        """A record or a probe from `sender`: the `mirrored` answer."""
        copy = self._copy(sender)
        seq = fields["seq"]
        if fields.get("probe"):
            return {"seq": seq, "have": copy.seq, "gap": copy.seq != seq}
        record = Record.from_message(fields, blobs)
        if copy.apply(record):
            self.stats["records"] += 1
            return {"seq": seq, "have": copy.seq, "gap": False}
        self.stats["refused"] += 1  # (behind, or ahead: not this store's history either way)
        return {"seq": seq, "have": copy.seq, "gap": True}

    def replace(self, sender: str, fields: dict, blobs: list) -> dict:
        """A snapshot of `sender`'s whole store: the copy becomes it."""
        names = fields["files"]
        if len(names) != len(blobs) - 1:
            raise ValueError("snapshot: files do not match their frames")
        old = self.copies.pop(sender, None)
        if old is not None:
            old.close()
        path = os.path.join(self.dir, sender)
        shutil.rmtree(os.path.join(path, "values"), ignore_errors=True)
        install_copy(os.path.join(path, "store.sqlite"), blobs[0], zip(names, blobs[1:]))
        copy = self._copy(sender)
        self.stats["snapshots"] += 1
        return {"seq": fields["seq"], "have": copy.seq, "gap": False}

    def restore_for(self, node: str, own_store_new: bool) -> tuple[dict, list]:
        """The `restore` answer to `node`, whose store is new: its copy, if this node has one."""
        if not self.has(node):
            return {"seq": 0, "files": [], "copy": False, "new": own_store_new}, []
        seq, image, files = self._copy(node).snapshot()
        self.stats["restores"] += 1
        log.warning("sending %s its store as this node's copy holds it (record %d): its "
                    "own was lost", node, seq)
        return ({"seq": seq, "files": [n for n, _ in files], "copy": True,
                 "new": own_store_new}, [image, *(data for _, data in files)])

    def status(self) -> dict:
        return {"copies": {n: c.seq for n, c in self.copies.items()}, **self.stats}

    def close(self) -> None:
        for copy in self.copies.values():
            copy.close()
        self.copies.clear()
