"""The copies of other nodes' stores this node keeps, as their mirror (docs/nodes.md, "Copies
of a node's store"): `<dir>/mirrors/<node>/store.sqlite` and its `values/`.

A node's mirror is the next live node after it in cluster order (config.mirror_of). The
node sends it a record of every commit (records.py); the mirror replays the record on its
copy if it is the next one and answers with the number of the last record its copy holds:

    mirror    node -> its mirror   {seq, id, stmts, log, files}, a frame per file
    mirror    node -> its mirror   {seq, id, probe: true}        (what do you hold?)
    snapshot  node -> its mirror   {seq, id, files}, frames [database, *files]  (the whole store)
    mirrored  mirror -> node       {seq, have, gap, probe?, behind?}
              gap: the copy is not the record before this one (a probe: not at seq), or is
                   of another store (`id`: Store.id) - send a snapshot;
              behind: the copy is of the same store and further on than `seq` - the node's
                   store went back in time (a disk or VM restored, a power cut): it must not
                   replace the copy; the node takes the copy instead (restore.catch_up)
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

from swarm.node.records import Record, files_named
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
        """Whether this node keeps a copy of `node`'s store (one that a snapshot started:
        an empty copy made for a probe is none)."""
        if node not in self.copies and not os.path.exists(
                os.path.join(self.dir, node, "store.sqlite")):
            return False
        return self._copy(node).id != 0

    # ---- messages -------------------------------------------------------------------------
    def take(self, sender: str, fields: dict, blobs: list) -> dict:
        """A record or a probe from `sender`: the `mirrored` answer."""
        copy = self._copy(sender)
        seq, same = fields["seq"], copy.id != 0 and copy.id == fields.get("id")
        if fields.get("probe"):
            return {"seq": seq, "have": copy.seq, "probe": True,
                    "gap": not same or copy.seq < seq, "behind": same and copy.seq > seq}
        record = Record.from_message(fields, blobs)
        if same and copy.apply(record):
            self.stats["records"] += 1
            return {"seq": seq, "have": copy.seq, "gap": False}
        if same and copy.seq >= seq:  # a copy of a record it replayed (sent again, or late)
            return {"seq": seq, "have": copy.seq, "gap": False}
        self.stats["refused"] += 1  # (another store's, or after a record it lacks)
        return {"seq": seq, "have": copy.seq, "gap": True}

    def replace(self, sender: str, fields: dict, blobs: list) -> dict:
        """A snapshot of `sender`'s whole store: the copy becomes it."""
        names = fields["files"]
        if len(names) != len(blobs) - 1 or not files_named(names):
            raise ValueError("snapshot: files do not match their frames, or are misnamed")
        copy = self._copy(sender)
        if copy.id == fields.get("id") and copy.id != 0 and copy.seq > fields["seq"]:
            self.stats["refused"] += 1  # (a snapshot older than the copy - one sent twice,
            # or of a store that went back in time: the copy stays either way, and the
            # node compares `have` with its own record: machine/mirror.py)
            return {"seq": fields["seq"], "have": copy.seq, "gap": False}
        old = self.copies.pop(sender, None)
        if old is not None:
            old.close()
        path = os.path.join(self.dir, sender)
        shutil.rmtree(os.path.join(path, "values"), ignore_errors=True)
        install_copy(os.path.join(path, "store.sqlite"), blobs[0], zip(names, blobs[1:], strict=True))
        copy = self._copy(sender)
        self.stats["snapshots"] += 1
        return {"seq": fields["seq"], "have": copy.seq, "gap": False}

    def restore_for(self, node: str, own_store_new: bool,
                    former: bool = False) -> tuple[dict, list]:
        """The `restore` answer to `node`, whose store is new: its copy, if this node has one
        (`former`: as its mirror before a node joined - restore.take_former_copy)."""
        if not self.has(node):
            return {"seq": 0, "files": [], "copy": False, "new": own_store_new}, []
        seq, image, files = self._copy(node).snapshot()
        self.stats["restores"] += 1
        log.warning("sending %s its store as this node's copy holds it (record %d%s): its "
                    "own was lost or is older", node, seq,
                    ", kept as its former mirror" if former else "")
        return ({"seq": seq, "files": [n for n, _ in files], "copy": True,
                 "new": own_store_new}, [image, *(data for _, data in files)])

    def status(self) -> dict:
        return {"copies": {n: c.seq for n, c in self.copies.items()}, **self.stats}

    def close(self) -> None:
        for copy in self.copies.values():
            copy.close()
        self.copies.clear()
