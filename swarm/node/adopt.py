"""The heir's part of `swarm node remove` (the operator's side: swarm/adoption.py; the
machine's: machine/fences.py, a fence with an heir): this node, the removed node's mirror,
takes its store.

`adopt` {node} from the operator's command, once every live node has fenced the node with
this one as its heir (written here too):

0. it takes no new program or hop, until none is left on it (up to QUIET_SECONDS: `quiet`);
1. a file `adopt` in the node's directory names the node (written and synced), and the
   process stops as `swarm down` stops it (every write under way done) and starts again
   (exec): programs running here run again from their last hop, as after a restart;
2. at that start, before the store opens (Shell.__init__, `finish`), the copy of the node's
   store this node keeps as its mirror (`<dir>/mirrors/NODE/`) is merged into its own in one
   transaction: every row of the tables keyed by a globally unique id - a Ref's, a hop's, a
   program's, a question's - that its own store lacks, their large-value files linked into
   its `values/` first; the node is written routed to this one (`heirs`), and the store
   takes a new id (its own mirror's copy is of the store before: it gets a snapshot);
3. the machine boots from it: the node's hops in its inbox run here, its outbox is resent
   from here, the hops it took (`done`) and questions it answered (`answers`) are taken
   and answered once, and its Refs are served here;
4. `adopt` asked again is answered `adopted`.

The merge is idempotent (INSERT OR IGNORE; files linked only if missing): a crash in it
leaves the `adopt` file, and the next start merges again. The copy is left where it was
(never changed again: the node is fenced); remove `<dir>/mirrors/NODE` by hand once the
cluster runs without it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import time

from swarm.node import machine as m
from swarm.node.records import FILE_NAME
from swarm.wire import control, decode

log = logging.getLogger("swarm.node")

MARKER = "adopt"
ROOM_TO_START = 8 << 20  # bytes a node needs free to open its store again after the merge
QUIET_SECONDS = 10.0  # how long the heir waits for the programs on it to end or move on
#: the tables merged: every row keyed by a globally unique id (not counters, nor heirs)
TABLES = ("refs", "forwards", "moves", "inbox", "outbox", "done", "kept", "sources",
          "fenced", "cancelled", "deaths", "partial", "answers", "blocks")


def serve(shell, env, identity: bytes) -> None:
    """An operator's `adopt` {node, force?}: answered `adopted` once this node has the store
    (or with the reason it cannot take it); otherwise, once its fence of the node is on disk
    and no program is left on it (`quiet`), it stops and starts again to take it."""
    p = decode.payload(env)
    node, client, machine = p["node"], identity.decode(), shell.machine
    if node in machine.routed and machine.heirs.get(node) == shell.name:
        shell._reply(m.Reply(client, "adopted", {"node": node}))
        return
    error = problem(shell, node) or quiet(machine, node, time.monotonic(), p.get("force", False),
                                          p.get("failover", False))
    if error:
        shell.refusals.note("adopt refused", f"adopt of {node!r} from {env.sender}: {error}")
        shell._reply(m.Reply(client, "adopted", {"node": node, "error": error}))
        return
    if not machine.adopting.get(node, (0, False))[1]:
        return  # (its fence not written yet, or programs on it: asked again every second)
    directory = shell.config.nodes[shell.name].dir
    path = os.path.join(directory, MARKER)
    with open(f"{path}.tmp", "w") as f:
        f.write(node)
        f.flush()
        os.fsync(f.fileno())
    os.replace(f"{path}.tmp", path)
    log.warning("taking the store of %s (its copy, kept here as its mirror): starting again "
                "to merge it", node)
    shell.restart = True  # (a clean stop first - every write under way done - then exec:
    shell.kernel.running = False  # Shell.close)


def quiet(machine, node: str, now: float, force: bool = False,
          failover: bool = False) -> str:
    """Before it merges, this node takes no new program or hop (they wait in their senders'
    outboxes: state.leaving), for up to QUIET_SECONDS until no program is on it: the restart
    that follows cuts those still running (one switched out mid-segment with writes kept
    ends PartlyDone, as after any restart). Then it goes on - unless one of them may have
    gone to the node since its last hop: one the node answered a question (answers.used), or
    one run again after a restart (its run before may have sent the node a hop). Such a
    program, running across the merge, would run again after it from its last hop - and
    where it went to the node before, it would now stay here: what it did there would be
    done twice. Programs that only wait for the node are no danger: the merge is what they
    wait for. With one: refused ("" otherwise), naming it - unless `force`, with which it
    runs again after the merge. `failover` (machine/failover.py): no wait - the node is
    silent, and what waits for it waits for this merge. machine.adopting[node] = [since,
    quiet]."""
    if node not in machine.fenced:
        return ""
    state = machine.adopting.setdefault(node, [now, False])
    machine.leaving = True
    here = [p for p, w in machine.present.items() if w[0] == "here"]
    if here and not failover and now - state[0] < QUIET_SECONDS:
        return ""
    pending = {q.send.fields.get("op") for q in machine.asks.values() if q.node == node}
    risky = [p for p, w in machine.present.items() if w[0] == "here" and (
        w[3] in machine.rerun or set(machine.answers.used.get(w[3], {}).get(node, ()))
        - pending)]
    if not risky or force:
        if here:
            log.warning("taking the store of %s with %d programs still here (first: %s): they "
                        "run again from their last hop after the restart%s", node, len(here),
                        here[0], " (--force)" if risky else "")
        state[1] = True
        return ""
    del machine.adopting[node]
    machine.leaving = False  # (it takes programs again: the command failed)
    return (f"{len(risky)} programs on {machine.name} may have gone to {node} since their "
            f"last hop, and stayed for {QUIET_SECONDS:g} s (first: {', '.join(risky[:3])}): "
            f"merged now, one would do that part again; run the command again later, or "
            f"with --force to merge anyway")


def fenced(config, store) -> set:
    """At a start: the nodes declared gone or removed - written in the store by their
    fences, and the cluster file's `fenced`. A node that joined after one holds none of it
    in its store: it took the node for a member, so its members differed from every other
    node's - their failover votes did not count, and it waited for one from the removed
    node (a second failover never came: trial of 2026-12-07, finding 3)."""
    return set(store.fenced()) | set(config.fenced)


def heirs(config, store) -> dict:
    """At a start: removed nodes and their heirs - written in the store by their fences, and
    the cluster file's (routed once the node is in its `fenced`: the removal ended)."""
    found = store.heirs()
    for node, heir in config.heirs.items():
        if node in config.fenced or node not in found:
            found[node] = (heir, node in config.fenced)
    return found


def problem(shell, node: str) -> str:
    """Why this node cannot take `node`'s store ("" if it can, or may once its fence is on
    disk)."""
    if node == shell.name or node not in shell.config.nodes:
        return f"{node!r} is not another node of this cluster"
    if node not in shell.machine.fenced:
        return ""  # (the fence comes first: asked again)
    if shell.machine.heirs.get(node) not in (None, shell.name):
        return f"{node}'s heir is {shell.machine.heirs[node]}, not this node"
    failed = os.path.join(shell.config.nodes[shell.name].dir, f"{MARKER}.failed")
    with contextlib.suppress(FileNotFoundError):  # (said once: the command asked again
        with open(failed) as f:  # after it tries the merge again)
            why = f.read()
        os.unlink(failed)
        return f"its merge of {node}'s store failed at its restart ({why}); it serves its own"
    if not shell.mirrors.has(node):
        return f"this node keeps no copy of {node}'s store (it was not its mirror)"
    directory = shell.config.nodes[shell.name].dir
    copy_db = os.path.join(directory, "mirrors", node, "store.sqlite")
    need = 2 * os.path.getsize(copy_db) + ROOM_TO_START
    free = shutil.disk_usage(directory).free
    if free < need:  # (it would restart into a disk it cannot open its store on: two nodes
        # down instead of one - found by an outside trial, a heir on a full tmpfs)
        return (f"this node's disk has {free:,} bytes free, and taking {node}'s store needs "
                f"about {need:,} (its rows, and room to start again): free room first")
    return ""


def finish(directory: str, name: str) -> None:
    """At a start, before the store opens: merge the copy an `adopt` file names (step 2)."""
    path = os.path.join(directory, MARKER)
    try:
        with open(path) as f:
            node = f.read().strip()
    except FileNotFoundError:
        return
    copy_dir = os.path.join(directory, "mirrors", node)
    try:
        merged = merge(os.path.join(directory, "store.sqlite"), copy_dir, node, name)
    except (sqlite3.Error, OSError) as e:  # (a full disk: the merge is one transaction,
        # rolled back - this node starts on its own store and says why at the next `adopt`;
        # before, the process exited, and the heir's own Refs were down with the node's)
        log.error("could not take the store of %s (%s: %s): starting without it; free the "
                  "cause, then `swarm node remove %s` again", node, type(e).__name__, e, node)
        os.replace(path, f"{path}.failed")
        with open(f"{path}.failed", "w") as f:
            f.write(f"{type(e).__name__}: {e}")
        return
    os.unlink(path)
    log.warning("took the store of %s: %s", node,
                ", ".join(f"{n} {t}" for t, n in merged.items() if n) or "nothing in it")


def merge(store_path: str, copy_dir: str, node: str, heir: str) -> dict[str, int]:
    """The rows of the copy at `copy_dir` that the store lacks, into it, in one transaction;
    the node written routed to `heir`, and a new store id. Rows merged, by table."""
    values = os.path.join(os.path.dirname(store_path), "values")
    os.makedirs(values, mode=0o700, exist_ok=True)
    copy = sqlite3.connect(os.path.join(copy_dir, "store.sqlite"))
    try:
        files = [name for table in ("refs", "inbox", "outbox") for (name,) in copy.execute(
            f"SELECT file FROM {table} WHERE file IS NOT NULL")]
    finally:
        copy.close()
    for name in files:  # (the files first: a row never names a file that is not there)
        if not FILE_NAME.fullmatch(name):
            raise ValueError(f"the copy of {node}'s store names a file {name!r}")
        target = os.path.join(values, name)
        if not os.path.exists(target):
            source = os.path.join(copy_dir, "values", name)
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
    db = sqlite3.connect(store_path, isolation_level=None)
    merged = {}
    try:
        db.execute("ATTACH DATABASE ? AS copy", (os.path.join(copy_dir, "store.sqlite"),))
        db.execute("BEGIN IMMEDIATE")
        for table in TABLES:
            before = db.total_changes
            db.execute(f"INSERT OR IGNORE INTO main.{table} SELECT * FROM copy.{table}")
            merged[table] = db.total_changes - before
        _prepared_blocks(db)
        # a Ref the node was moving here, which this node took and moved on since: its
        # forward stands, and the node's old value of it goes
        db.execute("DELETE FROM main.refs WHERE id IN (SELECT id FROM copy.moves WHERE "
                   "node = ?) AND id IN (SELECT id FROM main.forwards)", (heir,))
        _relocations(db, node, heir)
        # this node's forwards to the node: where the node's own say it went on (a Ref moved
        # there and on again); and a Ref here now has none (the node's pointed here, or
        # this node's pointed to the node, which had it)
        db.execute("UPDATE main.forwards SET node = (SELECT c.node FROM copy.forwards AS c "
                   "WHERE c.id = forwards.id) WHERE node = ? AND id IN "
                   "(SELECT id FROM copy.forwards)", (node,))
        db.execute("DELETE FROM main.forwards WHERE id IN (SELECT id FROM main.refs)")
        db.execute("INSERT OR REPLACE INTO heirs VALUES (?, ?, 1)", (node, heir))
        db.executemany("INSERT OR REPLACE INTO counters VALUES (?, ?)",
                       [("store_id", int.from_bytes(os.urandom(7), "big") or 1), ("born", 1)])
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()
    return merged


def _prepared_blocks(db) -> None:
    """An atomic block prepared on both the node and this node (docs/atomic.md) has a row
    `prepared` on each, under one key: the merge keeps both parts - locks and writes - in
    one (without it, this node's row alone: the block committed here, its writes on the
    node lost - a torn block, found by tests/test_atomic_durable.py)."""
    rows = db.execute("SELECT c.txn, c.record, m.record FROM copy.blocks AS c JOIN "
                      "main.blocks AS m ON c.txn = m.txn AND c.kind = m.kind WHERE "
                      "c.kind = 'prepared'").fetchall()
    for txn, theirs, ours in rows:
        coordinator, refs, writes = control.decode(ours)
        _, their_refs, their_writes = control.decode(theirs)
        both = (coordinator, list(dict.fromkeys([*refs, *their_refs])),
                {**dict(writes), **dict(their_writes)})
        db.execute("UPDATE main.blocks SET record = ? WHERE txn = ? AND kind = 'prepared'",
                   (control.encode(both), txn))


def _relocations(db, node: str, heir: str) -> None:
    """Relocations under way between the node and its heir end in the merge: both ends are
    here now. One from here to the node: the node's value if it took it (it may have
    written it since), its forward if it moved it on, else this node's value stays. One
    from the node to here: the value here if it came, else the node's (merged)."""
    moving = "SELECT id FROM main.moves WHERE node = ?"
    db.execute(f"INSERT OR REPLACE INTO main.refs SELECT * FROM copy.refs WHERE id IN "
               f"({moving})", (node,))
    db.execute(f"INSERT OR REPLACE INTO main.forwards SELECT * FROM copy.forwards WHERE id "
               f"IN ({moving})", (node,))
    db.execute(f"DELETE FROM main.refs WHERE id IN ({moving}) AND id IN "
               f"(SELECT id FROM copy.forwards)", (node,))
    db.execute("DELETE FROM main.moves WHERE node IN (?, ?)", (node, heir))
