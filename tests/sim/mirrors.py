"""Copies of stores in the simulator: what swarm/node/mirrors.py and restore.py do on real
nodes, over simulated disks and links (the node's side is the machine's own: mirror.py).

A record is the ledger's Txn itself (the simulated store replays it as the real one replays
a record's statements); a snapshot is a deep copy of the store. A mirror keeps its copies on
its disk: they survive its crashes and go with its disk.

Disk losses (World(disk_losses=...)): the node crashes, its disk is wiped (its store and the
copies it kept), and it boots with a new store: it asks its mirror `restore?` every second
and takes nothing else until the answer, as restore.py does. The loss is made only while the
node's mirror is live and no write counted on one disk alone is missing from it (the
machine's own account: MirrorLink.exposed; a loss while the mirror was down loses the writes
made meanwhile, the documented limit of mirror.py); else it waits and is tried again. Nor is a disk lost whose node's mirror is lost for good (Faults.gone): two failures.
"""

from __future__ import annotations

import copy

from swarm.node.machine.mirror import START_WAIT
from tests.sim.store import SimStore

MIRROR_KINDS = ("mirror", "snapshot", "restore?")
RESTORE_ASK = 1.0


def record(store: SimStore, txn, now: float) -> tuple[int, tuple]:
    """The commit's record: (seq, (fields, blobs)) as Committed takes it."""
    store.seq += 1
    return store.seq, ({"seq": store.seq, "id": store.id, "stmts": [], "log": [],
                        "files": []}, (txn, now))


def serve(node, src: str, kind: str, fields: dict, blobs: tuple) -> None:
    """A message of the mirror family at `node` (its copies: node.copies)."""
    w = node.world
    copies = node.copies
    if kind == "restore?":  # (a copy is one a snapshot started: Mirrors.has)
        kept = copies.get(src)
        kept = kept if kept is not None and kept.id else None
        w.send(node.name, src, "restore", {"seq": kept.seq if kept else 0, "files": [],
                                           "copy": kept is not None, "new": False},
               () if kept is None else (copy.deepcopy(kept),))
        return
    kept = copies.setdefault(src, SimStore())
    seq = fields["seq"]
    same = kept.id != 0 and kept.id == fields.get("id")
    if kind == "snapshot":
        if same and kept.seq > seq:  # (older than the copy: the copy stays)
            answer = {"seq": seq, "have": kept.seq, "gap": False}
        else:
            copies[src] = kept = copy.deepcopy(blobs[0])
            kept.room = None
            answer = {"seq": seq, "have": kept.seq, "gap": False}
    elif fields.get("probe"):
        answer = {"seq": seq, "have": kept.seq, "probe": True,
                  "gap": not same or kept.seq < seq, "behind": same and kept.seq > seq}
    elif same and seq == kept.seq + 1:
        txn, now = blobs
        kept.commit(txn, now)
        kept.seq = seq
        answer = {"seq": seq, "have": kept.seq, "gap": False}
    elif same and kept.seq >= seq:  # (a copy of a record it replayed)
        answer = {"seq": seq, "have": kept.seq, "gap": False}
    else:
        answer = {"seq": seq, "have": kept.seq, "gap": True}
    w.send(node.name, src, "mirrored", answer)


def snapshot(node, target: str) -> None:
    """SendSnapshot: the whole store as it is now."""
    node.world.send(node.name, target, "snapshot", {"seq": node.store.seq,
                                                    "id": node.store.id, "files": []},
                    (copy.deepcopy(node.store),))


def lose_disk(node, down: float, crash_after: float | None = None, tries: int = 0,
              revert: bool = False) -> None:
    """The node's disk is lost (see the module's docstring); it boots again after `down`
    (and crashes again `crash_after` its boot: while it restores). `revert`: its disk goes
    back to what it held when `save` was called (a disk or VM image restored, a power cut)
    instead of being lost."""
    w = node.world
    if revert and node.saved is None:
        w.losing -= 1
        return
    mirror = w.mirror_of(node.name)
    if (mirror is not None and w.nodes[mirror].lost) or node.lost:  # (two failures: k = 2
        w.losing -= 1  # is not enough for them, nor meant to be)
        return
    link = node.state.mirror if node.up and node.state else None
    if link is not None and (link.down_since is not None or link.syncing or link.exposed):
        if tries < 100:  # (its mirror lacks writes it counted: not now)
            w.at(w.now + 0.3, lose_disk, node, down, crash_after, tries + 1, revert)
        else:
            w.losing -= 1
        return
    if not node.up or node.restoring:
        if tries < 100:
            w.at(w.now + 0.3, lose_disk, node, down, crash_after, tries + 1, revert)
        else:
            w.losing -= 1
        return
    node.crash()
    if revert:
        node.store, node.copies = node.saved, node.saved_copies
        w.note(f"{node.name}'s disk goes back to record {node.store.seq}")
    else:
        node.store, node.copies = SimStore(), {}
        w.note(f"{node.name} loses its disk")
    w.losses += 1
    w.at(w.now + down, back, node, crash_after)


def save(node) -> None:
    """An image of the node's disk, put back later by lose_disk(revert=True)."""
    if node.up and not node.restoring:
        node.saved = copy.deepcopy(node.store)
        node.saved_copies = copy.deepcopy(node.copies)


def back(node, crash_after: float | None) -> None:
    """The node whose disk was lost starts again (with a new store: boot asks its mirror)."""
    w = node.world
    node.boot()
    if crash_after is None:
        w.losing -= 1
        return
    w.at(w.now + crash_after, node.crash)  # (while it restores, or catches its mirror up)
    w.at(w.now + crash_after + 0.05, back, node, None)


def ask_restore(node, epoch: int) -> None:
    """While the node restores: `restore?` to its mirror, again every RESTORE_ASK."""
    if epoch != node.epoch or not node.restoring:
        return
    w = node.world
    w.send(node.name, w.mirror_of(node.name), "restore?", {})
    w.at(w.now + RESTORE_ASK, ask_restore, node, epoch)


def restored(node, fields: dict, blobs: tuple) -> None:
    """The mirror's answer to `restore?`: its copy becomes the node's store (or, without
    one, the new store is the node's own: Store.be_born); the node catches its mirror up
    (at once: the copy is its store) and starts."""
    w = node.world
    if fields["copy"]:
        node.store = copy.deepcopy(blobs[0])
        node.store.room = None
        w.note(f"{node.name} restored from its mirror (record {node.store.seq})")
        w.restores += 1
    else:
        node.store.be_born(w.new_store_id())
        w.note(f"{node.name}: its mirror keeps no copy: starts empty")
    node.store_new = False
    catch_up(node, node.epoch)


def catch_up(node, epoch: int) -> None:
    """restore.catch_up: a probe (again every RESTORE_ASK until answered); a snapshot if the
    copy lacks something; the copy taken if it is further on (the store went back in time);
    the node starts once the copy holds its store."""
    w = node.world
    if epoch != node.epoch or not node.restoring or node.store_new:
        return
    if node.catching is None:  # (the first probe: the wait starts)
        w.at(w.now + START_WAIT, _caught_late, node, epoch)
    node.catching = (epoch, False)
    w.send(node.name, w.mirror_of(node.name, w.fenced), "mirror",
           {"seq": node.store.seq, "id": node.store.id, "probe": True})
    w.at(w.now + RESTORE_ASK, catch_up, node, epoch)


def caught_up(node, fields: dict) -> None:
    """A `mirrored` while the node catches its mirror up."""
    if node.catching is None:
        return
    epoch, _ = node.catching
    if fields.get("behind"):  # (take the copy: restore.take_copy)
        node.catching = None
        node.store_new = True
        ask_restore(node, epoch)
    elif fields["gap"]:
        snapshot(node, node.world.mirror_of(node.name, node.world.fenced))
    elif fields["have"] == node.store.seq:
        node.catching = None
        node.start()


def _caught_late(node, epoch: int) -> None:
    if node.restoring and not node.store_new and node.epoch == epoch and node.catching:
        node.catching = None
        node.start(mirror_down=True)
