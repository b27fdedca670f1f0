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

from swarm.node.machine.mirror import START_WAIT, former_mirrors
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
    if kind == "restore?":  # (a copy is one a snapshot started: Mirrors.has; asked of a
        kept = copies.get(src)  # former mirror too: restore.take_former_copy)
        kept = kept if kept is not None and kept.id else None
        w.send(node.name, src, "restore", {"seq": kept.seq if kept else 0, "files": [],
                                           "copy": kept is not None, "new": not node.store.born},
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
    if link is not None and link.node is not None and w.nodes[link.node].lost:
        w.losing -= 1  # (its copy is on a node lost for good: two failures too)
        return
    if link is not None and (link.down_since is not None or link.syncing or link.exposed) \
            and not _whole_elsewhere(node, link):
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


def _whole_elsewhere(node, link) -> bool:
    """The node's mirror changed (a node joined) and has no copy yet, but a former mirror
    keeps one with every write counted: losing the disk now is one failure (the restore
    asks the former mirrors: restored)."""
    w = node.world
    if link.down_since is not None or link.node is None:
        return False
    mirror = w.nodes[link.node]
    if mirror.lost or ((c := mirror.copies.get(node.name)) is not None
                       and c.id == node.store.id):
        return False  # (the restore takes the mirror's copy, whatever it holds)
    counted = link.waiting[0] - 1 if link.waiting else link.seq
    return any(other is not node and not other.lost and
               (c := other.copies.get(node.name)) is not None and c.id == node.store.id
               and c.seq >= counted for other in w.nodes.values())


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
    w.send(node.name, w.mirror_of(node.name, (), node.names), "restore?", {})
    w.at(w.now + RESTORE_ASK, ask_restore, node, epoch)


def restored(node, src: str, fields: dict, blobs: tuple) -> None:
    """An answer to `restore?`. The mirror's: its copy becomes the node's store; without
    one (its own store not new), the node asks every other member not declared gone (a
    former mirror keeps it: restore.take_former_copy) until all have answered, and takes
    the furthest copy, else the new store is the node's own (Store.be_born). Then it
    catches its mirror up (at once: the copy is its store) and starts."""
    w = node.world
    mirror = w.mirror_of(node.name, (), node.names)
    if node.former is not None:  # (gathering the others' answers)
        if src != mirror and src not in node.former:
            node.former[src] = (fields, blobs)
            _take_former(node, node.epoch)
        return
    if src != mirror:
        return
    if fields["copy"]:
        _install(node, blobs[0], "its mirror")
    elif not fields["new"] and _others(node):
        node.former = {}
        _ask_former(node, node.epoch)
        return
    else:
        node.store.be_born(w.new_store_id())
        w.note(f"{node.name}: its mirror keeps no copy: starts empty")
    node.store_new = False
    catch_up(node, node.epoch)


def _others(node) -> list[str]:
    """The members a node restoring asks as its former mirrors: those of the cluster file
    it read at its boot (the real node's config), but its mirror and those declared gone."""
    w = node.world
    return [n for n in former_mirrors(node.names, w.fenced, node.name, w.replicas,
                                      w.ring) if n not in w.fenced]


def _ask_former(node, epoch: int) -> None:
    """`restore?` to the members that have not answered, again every RESTORE_ASK."""
    if node.former is None or epoch != node.epoch or not node.restoring:
        return
    _take_former(node, epoch)  # (all may have answered: the others shrink with fences)
    if node.former is None:
        return
    for n in _others(node):
        if n not in node.former:
            node.world.send(node.name, n, "restore?", {"former": True})
    node.world.at(node.world.now + RESTORE_ASK, _ask_former, node, epoch)


def _take_former(node, epoch: int) -> None:
    if node.former is None or epoch != node.epoch or not node.restoring or \
            any(n not in node.former for n in _others(node)):
        return
    w = node.world
    copies = [(f["seq"], n, b) for n, (f, b) in node.former.items() if f["copy"]]
    node.former = None
    if copies:
        _, name, blobs = max(copies, key=lambda c: c[0])
        _install(node, blobs[0], f"{name}, its former mirror")
    else:
        node.store.be_born(w.new_store_id())
        w.note(f"{node.name}: no node keeps a copy: starts empty")
    node.store_new = False
    catch_up(node, node.epoch)


def _install(node, store, where: str) -> None:
    w = node.world
    node.store = copy.deepcopy(store)
    node.store.room = None
    w.note(f"{node.name} restored from {where} (record {node.store.seq})")
    w.restores += 1


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
    w.send(node.name, w.mirror_of(node.name, w.fenced, node.names), "mirror",
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
        snapshot(node, node.world.mirror_of(node.name, node.world.fenced, node.names))
    elif fields["have"] == node.store.seq:
        node.catching = None
        node.start()


def _caught_late(node, epoch: int) -> None:
    if node.restoring and not node.store_new and node.epoch == epoch and node.catching:
        node.catching = None
        node.start(mirror_down=True)
