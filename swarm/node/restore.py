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

A node that starts with its store first brings its mirror up to it (`catch_up`): the commits
of its last moments before a crash may not be on the copy - they were not counted, but their
hops sit in the outbox and are resent at start, so they would count from then on.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import time

from swarm.node import machine as m
from swarm.node.machine.mirror import MIRROR_TIMEOUT
from swarm.node.store import install_copy
from swarm.wire import decode

log = logging.getLogger("swarm.node")

MIRROR_KINDS = frozenset({"mirror", "snapshot", "restore?"})
ASK_SECONDS = 1.0  # `restore?` is sent again this often while the mirror does not answer
SAY_SECONDS = 10.0  # and the log says that it waits this often (every 10th ask)


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


def _wait(shell, mirror: str, kind: str, until: float | None, ask=None) -> tuple:
    """Poll until `kind` comes from `mirror` (its envelope) or `until` passes (None), serving
    the mirror family meanwhile and leaving everything else to its sender to send again;
    `ask()` is called every ASK_SECONDS. (the envelope, how many messages were left)."""
    next_ask, dropped = 0.0, 0
    while until is None or time.time() < until:
        if ask is not None and time.time() >= next_ask:
            next_ask = time.time() + ASK_SECONDS
            ask()
        shell._uncork()
        if shell.links.poll(50):  # CURVE handshakes wait for their answer (links.py)
            for refusal in shell.links.answer_zap():
                shell.refusals.note("unknown key", refusal)
        for identity, frames in shell.links.receive():
            env = shell.admit(identity, frames)
            if env is None:
                continue
            if env.kind == kind and env.sender == mirror:
                shell._uncork()
                return env, dropped
            if env.kind in MIRROR_KINDS:
                serve(shell, env)
            else:  # (its sender sends it again: hops, questions and submissions are)
                dropped += 1
    return None, dropped


def catch_up(shell) -> bool:
    """Before a node with a store starts: its mirror gets what the store holds and the copy
    lacks (the commits of its last moments before a crash, never counted: their hops may be
    in the outbox, resent at start). True if the mirror did not answer within
    MIRROR_TIMEOUT: the node starts with it down (machine/mirror.py)."""
    mirror = shell.config.mirror_of(shell.name)
    if mirror is None:
        return False
    seq = shell.store.seq
    shell._send(m.Send(mirror, "mirror", {"seq": seq, "probe": True}))
    until = time.time() + MIRROR_TIMEOUT
    env, _ = _wait(shell, mirror, "mirrored", until)
    if env is not None and decode.payload(env)["gap"]:
        send_snapshot(shell, m.SendSnapshot(mirror))
        env, _ = _wait(shell, mirror, "mirrored", time.time() + MIRROR_TIMEOUT)
        if env is not None and decode.payload(env)["have"] != seq:
            env = None
    if env is None:
        log.warning("mirror %s did not answer within %g s: starting without it (writes are "
                    "kept on this node's disk alone until it answers)", mirror, MIRROR_TIMEOUT)
        return True
    return False


def restore_if_lost(shell, argv: list[str]) -> None:
    """Before the node starts: if its store is new and it has a mirror, ask for the copy;
    with one, install it and start again from it (this does not return)."""
    mirror = shell.config.mirror_of(shell.name)
    if not shell.store_new or mirror is None:
        return
    started = time.time()

    def ask():
        shell._send(m.Send(mirror, "restore?", {}, resend=True))
        if time.time() - started >= SAY_SECONDS and \
                int(time.time() - started) % int(SAY_SECONDS) == 0:
            log.warning("this node's store is new: waiting for %s, its mirror, to say "
                        "whether it keeps a copy of it (%.0f s so far; `swarm-node --fresh` "
                        "starts empty without asking)", mirror, time.time() - started)
    answer, dropped = _wait(shell, mirror, "restore", None, ask)
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
