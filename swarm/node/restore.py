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
from swarm.node.config import ClusterConfig, ConfigError
from swarm.node.machine.mirror import (
    START_WAIT,
    MirrorLink,
    deadline,
    former_mirrors,
    probe,
)
from swarm.node.records import files_named
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
    if env.kind == "restore?" and p.get("former") and \
            not mirrors.copies_for(sender, shell.machine.fenced):
        # (as a former mirror: the node's mirror changed when a node joined - its copy, if
        # it keeps one, may be the only one; take_former_copy asks only after the mirror
        # said it keeps none. A plain restore? from a node this one is not the mirror of -
        # one started with a cluster file from before a join - is refused, below)
        fields, blobs = mirrors.restore_for(sender, shell.store_new, former=True)
        shell._send(m.Send(sender, "restore", fields, tuple(blobs)))
        return
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
    """SendSnapshot: the whole store, as it is now, to the mirror (the machine is told its
    size: how long it may take, machine/mirror.py)."""
    fields, blobs = snapshot_message(shell.store)
    shell._send(m.Send(i.node, "snapshot", fields, blobs))
    shell.emit(m.SnapshotSent(i.node, sum(len(b) for b in blobs)))


def snapshot_message(store) -> tuple[dict, tuple]:
    seq, image, files = store.snapshot()
    return ({"seq": seq, "id": store.id, "files": [n for n, _ in files]},
            (image, *(data for _, data in files)))


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
            if env.kind == kind and (mirror is None or env.sender == mirror):
                shell._uncork()
                return env, dropped
            if env.kind in MIRROR_KINDS:
                serve(shell, env)
            else:  # (its sender sends it again: hops, questions and submissions are)
                dropped += 1
    return None, dropped


def catch_up(shell, argv: list[str]) -> bool:
    """Before a node with a store starts: its mirror gets what the store holds and the copy
    lacks (the commits of its last moments before a crash, never counted: their hops may be
    in the outbox, resent at start). A copy further on than the store (the store went back
    in time: a disk or VM restored, a power cut) is taken instead, as after a lost disk. The
    node waits START_WAIT for its mirror, then starts with it down (True; machine/mirror.py):
    a store that went back in time while its mirror cannot be reached is two failures, and
    waiting for ever would keep the node from taking part even in `swarm node gone` of its
    mirror. `swarm-node --without-mirror` starts it at once, the mirror taken as down."""
    mirror = shell.config.mirror_of(shell.name)
    if mirror is None:
        return False
    if shell.without_mirror:
        log.warning("started without asking mirror %s (--without-mirror): if this store went "
                    "back in time, writes its copy holds are lost", mirror)
        return True
    store, started = shell.store, time.time()

    def ask():
        shell._send(probe(MirrorLink(mirror, store.seq, store.id)))
        waited = time.time() - started
        if waited >= SAY_SECONDS and int(waited) % int(SAY_SECONDS) == 0:
            log.warning("waiting for %s, this node's mirror, to say whether its copy is "
                        "further on than this store (%.0f s so far; `swarm-node "
                        "--without-mirror` starts without it)", mirror, waited)
    until = started + START_WAIT
    while True:
        env, _ = _wait(shell, mirror, "mirrored", until, ask)
        if env is None:
            log.warning("mirror %s did not answer in %g s: starting without it (writes are "
                        "kept on this node's disk alone until it answers; if this store went "
                        "back in time meanwhile, what only its copy holds is lost)", mirror,
                        START_WAIT)
            return True
        answer = decode.payload(env)
        if answer.get("behind"):
            log.warning("the copy of this node's store on %s is further on (record %d) than "
                        "the store (record %d): the store went back in time; taking the copy",
                        mirror, answer["have"], store.seq)
            take_copy(shell, mirror, argv, "its own went back in time")
        if not answer["gap"]:
            return False
        fields, blobs = snapshot_message(store)
        shell._send(m.Send(mirror, "snapshot", fields, blobs))
        env, _ = _wait(shell, mirror, "mirrored", deadline(time.time(),
                                                           sum(len(b) for b in blobs)))
        if env is not None and not decode.payload(env)["gap"] and \
                decode.payload(env)["have"] == store.seq:
            return False


def restore_if_lost(shell, argv: list[str]) -> None:
    """Before the node starts: if its store is new and it has a mirror, ask for the copy;
    with one, install it and start again from it (this does not return); without one, the
    store is taken as new (Store.be_born)."""
    mirror = shell.config.mirror_of(shell.name)
    if not shell.store_new or mirror is None:
        return
    if not take_copy(shell, mirror, argv, "its own was lost"):
        take_former_copy(shell, mirror, argv)
    shell.store.be_born()
    shell.store_new = False


def take_copy(shell, mirror: str, argv: list[str], why: str) -> bool:
    """Ask the mirror for its copy of this node's store; with one, install it and start
    again from it (this does not return); without one, return whether the mirror's own
    store is new too (a new cluster, or two failures)."""
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
        log.info("this node's store is new and %s keeps no copy of it%s", mirror,
                 " (its own store is new too: a new cluster)" if p["new"] else "")
        return p["new"]
    install(shell, answer, argv, f"{why}; restored from the copy {mirror} keeps", dropped)


def take_former_copy(shell, mirror: str, argv: list[str]) -> None:
    """The mirror keeps no copy, and its store is not new: this node's mirror may have
    changed (a node joined after it: the new one got a snapshot, which may not have come
    before this node's disk went). Its former mirrors (machine/mirror.former_mirrors: the
    next node in the member lists before each join) not declared gone are asked, until all
    have answered (as for the mirror: a node that cannot tell a lost store from a new one
    does not start empty in its place). The furthest copy is taken (this does not
    return); with none, the node starts empty."""
    answers, dropped, started = {}, 0, time.time()
    while True:
        fenced = _fenced(shell)
        others = [n for n in former_mirrors(shell.config.names, fenced, shell.name,
                                            shell.config.copies, len(shell.config.homes))
                  if n not in fenced]
        missing = [n for n in others if n not in answers]
        if not missing:
            break
        for n in missing:
            shell._send(m.Send(n, "restore?", {"former": True}, resend=True))
        if int(time.time() - started) >= SAY_SECONDS and \
                int(time.time() - started) % int(SAY_SECONDS) == 0:
            log.warning("this node's store is new and %s, its mirror, keeps no copy: waiting "
                        "for %s, which may keep one as its former mirror (%.0f s so far; if "
                        "it will not come back: swarm node gone)", mirror, ", ".join(missing),
                        time.time() - started)
        env, left = _wait(shell, None, "restore", time.time() + ASK_SECONDS)
        dropped += left
        if env is not None and env.sender in others:
            answers[env.sender] = env
    copies = [(decode.payload(env)["seq"], name, env) for name, env in answers.items()
              if decode.payload(env)["copy"]]
    if not copies:
        log.info("no node keeps a copy of this node's store (%d asked): it starts empty",
                 len(answers))
        return
    seq, name, env = max(copies, key=lambda c: c[0])
    install(shell, env, argv, f"its own was lost, and {mirror} (its mirror) keeps no copy; "
                              f"restored from the copy {name} keeps as its former mirror",
            dropped)


def _fenced(shell) -> set:
    """The nodes declared gone: the cluster file is read again (an operator may fence a
    node that will not come back while this node waits for it)."""
    try:
        return set(ClusterConfig.load(shell.config.path).fenced) | set(shell.config.fenced)
    except (OSError, ConfigError):
        return set(shell.config.fenced)


def install(shell, answer, argv: list[str], why: str, dropped: int) -> None:
    """Install the copy a `restore` carries and start again from it (does not return)."""
    p = decode.payload(answer)
    if len(p["files"]) != len(answer.blobs) - 1 or not files_named(p["files"]):
        raise ValueError(f"the copy {answer.sender} sent names files wrongly: not installed")
    path = shell.store.path
    shell.store.close()
    install_copy(path, answer.blobs[0], zip(p["files"], answer.blobs[1:], strict=True))
    db = sqlite3.connect(path)  # (as after a crash: the gate refuses what came before)
    with db:
        db.execute("INSERT OR REPLACE INTO counters VALUES ('replay_cutoff', -1)")
    db.close()
    log.warning("this node's store: %s (record %d, %d files); starting again from it (%d "
                "messages meanwhile left to their senders to send again)", why, p["seq"],
                len(p["files"]), dropped)
    shell.links.close()
    os.execv(sys.executable, [sys.executable, "-m", "swarm.node_main", *argv])
