"""The shell's part of copies of stores (docs/nodes.md, "Copies of a node's store"): the
messages a mirror serves (mirrors.py keeps the copies), and a node whose store is new asking
its mirror whether it lost it.

A node that starts with a new store (its directory was lost, or this is a new cluster) and
has a mirror asks it `restore?` before it takes anything else. The mirror answers with its
copy of the node's store, or with none. With a copy, the node installs it (store.install_copy),
marks it as a store that did not stop cleanly (the replay gate then refuses every message
sent before this start, as after a crash) and starts again in the same process (exec): it
goes on from the copy as it would from its own store after a crash (machine/mirror.py says
why nothing acknowledged is lost). Without one, it starts empty. While it waits it takes
nothing but the mirror family (hops, questions and submissions are sent again by their
senders), and it waits as long as the mirror does not answer: a node that cannot tell a lost
store from a new one does not start empty in its place. `swarm-node --fresh` starts empty
without asking.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import time

from swarm.node import machine as m
from swarm.node.store import install_copy
from swarm.wire import decode

log = logging.getLogger("swarm.node")

MIRROR_KINDS = frozenset({"mirror", "snapshot", "restore?"})
ASK_SECONDS = 1.0  # `restore?` is sent again this often while the mirror does not answer
SAY_SECONDS = 10.0  # and the log says that it waits this often


def serve(shell, env) -> None:
    """A message of the mirror family from another node: its copy changed, or sent."""
    sender, p = env.sender, decode.payload(env)
    mirrors = shell.mirrors
    if not mirrors.copies_for(sender, shell.machine.fenced):
        shell.refusals.note("not its mirror", f"{env.kind} from {sender}: this node does not "
                                              f"keep its copy (config.mirror_of)")
        return
    if env.kind == "restore?":
        fields, blobs = mirrors.restore_for(sender, shell.store_new)
        shell._send(m.Send(sender, "restore", fields, tuple(blobs)))
        return
    blobs = list(env.blobs)
    try:
        answer = mirrors.take(sender, p, blobs) if env.kind == "mirror" else \
            mirrors.replace(sender, p, blobs)
    except ValueError as e:
        shell.refusals.note("malformed", f"{env.kind} from {sender}: {e}")
        return
    except (sqlite3.Error, OSError) as e:  # (its disk: not answered, the node goes on alone)
        log.error("the copy of %s's store was not changed (%s: %s): not answered",
                  sender, type(e).__name__, e)
        return
    shell._send(m.Send(sender, "mirrored", answer))


def send_snapshot(shell, i) -> None:
    """SendSnapshot: the whole store, as it is now, to the mirror."""
    seq, image, files = shell.store.snapshot()
    shell._send(m.Send(i.node, "snapshot", {"seq": seq, "files": [n for n, _ in files]},
                       (image, *(data for _, data in files))))


def restore_if_lost(shell, argv: list[str]) -> None:
    """Before the node starts: if its store is new and it has a mirror, ask for the copy;
    with one, install it and start again from it (this does not return)."""
    mirror = shell.config.mirror_of(shell.name)
    if not shell.store_new or mirror is None:
        return
    answer, next_ask, next_say, started, dropped = None, 0.0, time.time() + SAY_SECONDS, \
        time.time(), 0
    while answer is None:
        now = time.time()
        if now >= next_ask:
            next_ask = now + ASK_SECONDS
            shell._send(m.Send(mirror, "restore?", {}, resend=True))
            shell._uncork()
        if now >= next_say:
            next_say = now + SAY_SECONDS
            log.warning("this node's store is new: waiting for %s, its mirror, to say whether "
                        "it keeps a copy of it (%.0f s so far; `swarm-node --fresh` starts "
                        "empty without asking)", mirror, now - started)
        shell.links.poll(100)
        for identity, frames in shell.links.receive():
            env = shell.admit(identity, frames)
            if env is None:
                continue
            if env.kind == "restore" and env.sender == mirror:
                answer = env
            elif env.kind in MIRROR_KINDS:
                serve(shell, env)
            else:  # (its sender sends it again: hops, questions and submissions are)
                dropped += 1
        shell._uncork()
    p = decode.payload(answer)
    if not p["copy"]:
        log.info("this node's store is new and %s keeps no copy of it%s: it starts empty",
                 mirror, " (its own store is new too: a new cluster)" if p["new"] else "")
        return
    path = shell.store.path
    shell.store.close()
    install_copy(path, answer.blobs[0], zip(p["files"], answer.blobs[1:]))
    db = sqlite3.connect(path)  # (as after a crash: the gate refuses what came before)
    with db:
        db.execute("INSERT OR REPLACE INTO counters VALUES ('replay_cutoff', -1)")
    db.close()
    log.warning("this node's store was lost: restored from the copy %s keeps (record %d, "
                "%d files); starting again from it (%d messages meanwhile left to their "
                "senders to send again)", mirror, p["seq"], len(p["files"]), dropped)
    shell.links.close()
    os.execv(sys.executable, [sys.executable, "-m", "swarm.node_main", *argv])
