"""Atomic blocks on a node (swarm/blocks.py is the API, machine/txn.py decides, docs/atomic.md
tells the protocol): a block's reads, its buffered writes, its commit, its retries.

A block runs on the node where it entered and never moves: a value it reads comes from where
it lives (read here, or asked of its node: `txn-read`), with its version; its writes, and
what it prints, wait in its `Txn` (the program's `txn`). At its end the writes are committed:
in one phase when every Ref it touched is on one node, else prepared on each node, then
committed (machine/txn.py). A conflict re-runs the block from its start: the `with` form
from the continuation saved at its entry (`Begin`: the program is captured there once, and
resumed at once, keeping a copy), the decorator form by calling the function again.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import sys
import time

from swarm.continuation import codec, loader
from swarm.continuation.errors import NotMigratable
from swarm.continuation.primitives import Operation
from swarm.continuation.stackcheck import why_not_capturable
from swarm.errors import AtomicConflict
from swarm.node import programio, remoteerrors
from swarm.node.asking import ask
from swarm.node.collserve import locate
from swarm.node.machine.txn import plan as txn_plan
from swarm.node.machine.txn import step as txn_step

log = logging.getLogger("swarm.node")
ATTEMPTS = 100  # a block that conflicts this many times in a row fails (AtomicConflict)
DELETED = b""  # a write that deletes the Ref
NO_COPY = b"no copy: "  # Begin.saved when the program could not be copied (then: why)
_PAUSE = os.environ.get("SWARM_FAULT_TXN_PAUSE", "")  # (tests: _fault_pause)


class Txn:
    """One attempt of a block: what it read (ref id -> (version, node, value)), what it
    writes (ref id -> (node, encoded value, or DELETED)), what it printed."""

    __slots__ = ("id", "attempt", "attempts", "saved", "reads", "writes", "output", "why",
                 "began")

    def __init__(self, prog_id: str, attempt: int, attempts: int, saved: bytes | None) -> None:
        self.id = f"{prog_id}/{secrets.token_hex(6)}"
        self.attempt, self.attempts, self.saved = attempt, attempts, saved
        self.began = time.monotonic()
        self.reads: dict[str, tuple] = {}
        self.writes: dict[str, tuple] = {}
        self.output: list = []  # [stream, text]: printed when the block commits
        self.why = ""  # the last conflict (for AtomicConflict)

    def nodes(self) -> dict[str, tuple[dict, dict]]:
        """node -> (reads there: ref -> version, writes there: ref -> blob)."""
        out: dict[str, tuple[dict, dict]] = {}
        for ref_id, (version, where, _) in self.reads.items():
            out.setdefault(where, ({}, {}))[0][ref_id] = version
        for ref_id, (where, blob) in self.writes.items():
            out.setdefault(where, ({}, {}))[1][ref_id] = blob
        return out


class Conflict(BaseException):
    """An attempt of a decorated block conflicted: the decorator calls its function again (a
    BaseException: the block's own `except Exception` must not swallow it)."""


# ---- inside a block: reads and writes -------------------------------------------------------

def refuse(what: str) -> None:
    """Operations that cannot be undone, or that would leave the block's node, are refused
    inside a block."""
    raise RuntimeError(f"{what} is not allowed inside swarm.atomic(): a block runs on one node, "
                       f"and may run several times before it commits (see docs/atomic.md)")


def read(node, txn: Txn, ref, missing=KeyError):
    """The value of `ref` as the block sees it: its own write, what it read already, or the
    value where it lives now (with its version). A Ref that does not exist (deleted, or a
    collection's part never written) raises KeyError, or gives `missing` if one is given -
    and the block's commit checks it still does not."""
    if ref.id in txn.writes:
        blob = txn.writes[ref.id][1]
    elif ref.id in txn.reads:
        blob = txn.reads[ref.id][2]
    else:
        blob = _read_where_it_lives(node, txn, ref)
    if blob != DELETED:
        return codec.loads(blob)
    if missing is KeyError:
        raise KeyError(f"Ref({ref.id!r}) was deleted")
    return missing


def _read_where_it_lives(node, txn: Txn, ref) -> bytes:
    # (here: once a relocation, or a block committing it across nodes, has finished)
    where = locate(node, ref.id, ref.hint)
    while True:
        if where == node.name:
            answer = read_here(node, ref.id)
            break
        reply, answer = ask(node, where, "txn-read", ref.id, ref.id)
        if reply.get("error"):
            raise remoteerrors.rebuild(reply, where, f"an atomic block's read of "
                                                     f"Ref({ref.id!r})")
        node.machine.count("fetches")
        if answer[0] != "moved":
            break
        where = answer[1]  # (not this node's forward, which may point back where it asked)
    ref.hint = where
    blob = DELETED if answer[0] == "missing" else codec.dumps(answer[2])
    txn.reads[ref.id] = (answer[1], where, blob)
    return blob


def read_here(node, ref_id: str) -> tuple:
    """("value", version, value), or ("missing", version) for a Ref that does not exist."""
    data = node.machine.data
    node.machine.access.record(node.kernel.current_context(), ref_id)
    try:
        value = data.read(ref_id)
    except KeyError:
        return ("missing", data.versions.version(ref_id))
    return ("value", data.versions.version(ref_id), value)


def write(node, txn: Txn, ref, value) -> None:
    """Buffer a set (a copy of the value as it is now) or, with DELETED, a deletion."""
    where = node.machine.locate(ref.id, ref.hint)
    if ref.id in txn.reads:
        where = txn.reads[ref.id][1]  # (validated there: the commit says if it moved)
    ref.hint = where
    txn.writes[ref.id] = (where, DELETED if value is DELETED else codec.dumps(value))


# ---- the end of a block ---------------------------------------------------------------------

def commit(node, txn: Txn) -> str | None:
    """Commit the block's writes if what it read still holds: None, or the conflict (the
    steps: machine/txn.py's plan). Across nodes, this node is the block's coordinator: it
    writes its decision to commit before any commit leaves (Txns.decide: the ledger holds
    the questions until it is on disk), and answers prepared nodes that ask (`outcome`)."""
    parts = txn.nodes()
    steps = txn_plan(parts)
    txns = node.machine.data.txns
    spans = len(steps) > 1 and any(action == "txn-prepare" for _, action in steps)
    if spans:
        txns.begin(txn.id)
    prepared = []  # (a node is aborted if its prepare was asked: its answer may be lost)
    why = None
    try:
        for where, action in steps:
            if action == "txn-prepare":
                prepared.append(where)
            why = _on(node, where, action, txn.id, *parts[where])
            if why is not None:
                break
    except BaseException:  # a node did not answer (or failed): let the others go
        txns.abandon(txn.id)
        _abort(node, txn, prepared)
        raise
    if why is not None:
        txns.abandon(txn.id)
        _abort(node, txn, prepared)
        return why
    if spans:
        _fault_pause(node, txn, "before")
        txns.decide(txn.id, prepared)
        # (run again after a crash, the program would commit the block again: it ends with
        # PartlyDone instead once the decision is on disk - docs/atomic.md)
        node.machine.data.segment_wrote(f"atomic-block:{txn.id}")  # (no space: store.py)
        _fault_pause(node, txn, "after")
    try:
        _commit_everywhere(node, txn, prepared)
    except BaseException:  # (a node declared gone...): the resolver sends the rest
        txns.driving.discard(txn.id)
        raise
    if spans:
        txns.done_deciding(txn.id)
    return None


def _fault_pause(node, txn: Txn, when: str) -> None:
    """A fault-injection point for tests (tests/test_atomic_durable.py): with
    SWARM_FAULT_TXN_PAUSE=before:S (or after:S) in its environment, a node's blocks that
    span nodes wait S seconds once every node prepared, before (after) the decision - time
    for a test to SIGKILL a node between the phases. Logged, so a test sees it begin."""
    if _PAUSE.partition(":")[0] == when:
        seconds = float(_PAUSE.partition(":")[2])
        log.warning("atomic block %s: pausing %g s %s its decision (SWARM_FAULT_TXN_PAUSE)",
                    txn.id, seconds, when)
        node.kernel.run_in_thread(time.sleep, seconds)


def _commit_everywhere(node, txn: Txn, prepared: list[str]) -> None:
    """Phase two: every prepared node commits - also when the program is cancelled
    meanwhile (its KeyboardInterrupt is raised once the block has ended: `ended`).

    Discussion: once every node said yes, the block is decided; a cancel that stopped it
    here (thrown in where it waits for a node's answer) would leave the nodes after that one
    prepared - their Refs locked until they restart, and what the block wrote there lost -
    while the nodes before had committed: a torn block. So the program is shielded while it
    commits: the kernel keeps the interrupt until then (kernel.cancel), and does not drop
    the program while it waits (a node that does not answer is waited for, as without a
    cancel, until it answers or is declared gone)."""
    prog = node.kernel.current_context()
    if prog is not None:
        prog.shielded = True
    try:
        for where in prepared:
            _on(node, where, "txn-commit", txn.id, {}, {})
    finally:
        if prog is not None:
            prog.shielded = False


def _abort(node, txn: Txn, prepared: list[str]) -> None:
    """Unlock what the block prepared (as far as the nodes answer: one that does not keeps
    the locks until it restarts - docs/atomic.md)."""
    for where in prepared:
        try:
            _on(node, where, "txn-abort", txn.id, {}, {})
        except Exception as e:
            node.machine.count("txn_abort_failed")
            log.warning("atomic block %s could not abort on %s (%s): that node keeps its "
                        "locks until it restarts", txn.id, where, e)


def _on(node, where: str, action: str, txn_id: str, reads: dict, writes: dict):
    """A step of the commit on `where` (here, or asked of it): its conflict, or None. (This
    node is the block's coordinator: a prepare keeps its name.)"""
    if where == node.name:
        return act(node, action, txn_id, reads, writes, node.name)
    node.machine.count("txn_asks")
    reply, why = ask(node, where, action, None, (txn_id, reads, writes, node.name))
    if reply.get("error"):
        raise remoteerrors.rebuild(reply, where, f"an atomic block's {action}")
    return why


def act(node, action: str, txn_id: str, reads: dict, writes: dict, coordinator: str = ""):
    """One commit step on this node (machine/txn.py); none of them parks. A prepare's
    record, and a commit's or abort's end of it, go with the ledger's next write: the
    answer waits for it (NodeState._send)."""
    data = node.machine.data
    values = _unpickled(writes)  # (before anything is written or locked)

    def lives_here(ref_id: str) -> bool:
        return node.machine.locate(ref_id, node.name) == node.name and \
            ref_id not in data.moving

    if action == "txn-commit" and txn_id not in data.txns.prepared and \
            txn_id not in data.txns.finished:
        node.machine.count("txn_commit_unknown")
        log.info("atomic block %s: told to commit on %s, where it is not prepared - "
                    "committed already, before a restart (its prepare is durable), unless "
                    "this store lost it (a disk lost with replicas = 1)", txn_id, node.name)
    why = txn_step(data.txns, lives_here, action, txn_id, reads, writes,
                   lambda r, b: _apply(node, r, b, values), coordinator, time.time())
    if why is not None and action == "txn-commit":  # (never: a defect of the protocol)
        raise RuntimeError(f"{why}: its writes on {node.name} are lost, the block is torn")
    return why


def _unpickled(writes: dict) -> dict:
    """The values a step writes here (a one-phase commit's, or a prepare's), unpickled:
    one that does not unpickle here fails the step before anything is written or locked.

    Discussion: the values were applied one by one as they were unpickled, so a value whose
    unpickling raised (its `__reduce__`, a class this node cannot import) left the writes
    before it made and those after it not - a torn block that the program was told failed;
    a prepare locks nothing and a commit writes nothing now until every value unpickles.
    A prepared value is unpickled again at its commit (it was kept as bytes)."""
    return {ref_id: codec.loads(blob) for ref_id, blob in writes.items() if blob != DELETED}


def _apply(node, ref_id: str, blob: bytes, values: dict) -> None:
    if blob == DELETED:
        node.machine.data.delete(ref_id)
    else:
        node.machine.data.write(ref_id, values[ref_id] if ref_id in values else
                                codec.loads(blob))


def serve(node, action: str, arg):
    """A peer's question about a block (refserve.serve): txn-read, or a commit step."""
    if action == "txn-read":
        where = locate(node, arg, node.name)
        if where != node.name:
            return ("moved", where)
        return read_here(node, arg)
    if action == "txn-outcome":  # a prepared node asks: arg is the block's id
        return node.machine.data.txns.outcome(arg)
    txn_id, reads, writes, *coordinator = arg
    return act(node, action, txn_id, reads, writes, *coordinator)


# ---- resolving blocks cut between their phases ------------------------------------------------

RESOLVE_AFTER = 2.0  # seconds a block stays prepared here before its coordinator is asked


def resolve(node, now: float) -> None:
    """Every second (the shell's tick): ask the coordinators of the blocks prepared here
    RESOLVE_AFTER ago or more (or loaded at a restart) what became of them; send the
    commits of decisions nobody sends (loaded at a restart, or whose program stopped
    sending them). Each in a greenlet of its own: asking parks.

    Discussion: why this is safe (docs/atomic.md has the whole argument). A coordinator
    answers "commit" only from its decision, which is on disk before the answer leaves
    (the ledger holds it); "abort" only when it has no decision and is not deciding - then
    no commit of that block was or will be sent: its program's attempt ended, or died with
    the node (a program run again makes another block). So a prepared node never commits a
    block that another aborted, nor aborts one another committed; and once every node is up,
    every prepared block is asked about until it is committed or aborted."""
    txns = node.machine.data.txns
    for txn_id, coordinator in txns.stale(now, RESOLVE_AFTER):
        node.kernel.spawn(_resolve, node, txn_id, coordinator)
    for txn_id, participants in txns.undriven():
        node.kernel.spawn(_drive, node, txn_id, participants)
    txns.forget_finished(now - 2 * node.config.replay_window - 1.0)


def _resolve(node, txn_id: str, coordinator: str) -> None:
    txns = node.machine.data.txns
    try:
        if coordinator in node.machine.fenced:
            outcome = "abort"
            log.error("atomic block %s is prepared on %s and its coordinator %s was declared "
                      "gone: aborted here (if %s had decided to commit, the block's writes "
                      "on other nodes were kept and those here are lost)", txn_id, node.name,
                      coordinator, coordinator)
        elif coordinator == node.name:
            outcome = txns.outcome(txn_id)
        elif not coordinator:  # (a prepare from a node that did not name itself: an older
            # version - its outcome cannot be asked; it waits for its commit or abort)
            log.warning("atomic block %s prepared on %s names no coordinator to ask", txn_id,
                        node.name)
            return
        else:
            reply, outcome = ask(node, coordinator, "txn-outcome", None, txn_id)
            if reply.get("error"):
                raise remoteerrors.rebuild(reply, coordinator, "an atomic block's outcome")
        if outcome in ("commit", "abort") and txn_id in txns.prepared:
            node.machine.count("txn_resolved")
            log.warning("atomic block %s, prepared on %s: %s (asked of %s)", txn_id, node.name,
                     outcome, coordinator or node.name)
            act(node, f"txn-{outcome}", txn_id, {}, {})
    except Exception as e:
        log.warning("atomic block %s prepared on %s: its coordinator %s could not be asked "
                    "(%s: %s); asked again in %g s", txn_id, node.name, coordinator,
                    type(e).__name__, e, RESOLVE_AFTER)
    finally:
        txns.resolved(txn_id, time.time())


def _drive(node, txn_id: str, participants: list[str]) -> None:
    """A decision to commit whose commits nobody sends: sent (a node that committed the
    block already answers so), then the decision goes."""
    txns = node.machine.data.txns
    gone = [where for where in participants if where in node.machine.fenced]
    if gone:
        log.error("atomic block %s was decided to commit, and %s was declared gone before it "
                  "committed it: the block's writes there are lost", txn_id, ", ".join(gone))
    try:
        for where in participants:
            if where not in gone:
                _on(node, where, "txn-commit", txn_id, {}, {})
    except Exception as e:
        txns.driving.discard(txn_id)  # (the next tick tries again)
        log.warning("atomic block %s decided on %s: its commit could not be sent (%s: %s); "
                    "tried again", txn_id, node.name, type(e).__name__, e)
        return
    node.machine.count("txn_driven")
    log.warning("atomic block %s: its decision to commit sent again to %s (committed there "
                "now, or before)", txn_id, ", ".join(participants))
    txns.done_deciding(txn_id)


def conflicted(node, txn: Txn, why: str) -> None:
    """Count a conflict; fail the block once it had its attempts; wait a little (more after
    each conflict, at random: two blocks that keep conflicting drift apart).

    Discussion: the pause doubles from 0.5 ms up to a cap of 50 ms, or four times what the
    attempt took if that is longer (at most 1 s). With a fixed 50 ms cap, blocks that take
    long - reads asked of other nodes on a loaded machine - kept meeting the same
    contenders: 50 programs adding to one Ref from three nodes at load 12-15 ran some block
    out of its 100 attempts (AtomicConflict), while the same blocks on a quiet machine
    commit in 2-4 attempts."""
    node.machine.count("txn_conflicts")
    txn.why = why
    if txn.attempt >= txn.attempts:
        raise AtomicConflict(f"an atomic block conflicted {txn.attempt} times in a row (last: "
                             f"{why}); it was not committed")
    cap = min(1.0, max(0.05, 4 * (time.monotonic() - txn.began)))
    pause = random.uniform(0, min(cap, 0.0005 * 2 ** txn.attempt))
    if txn.attempt > 2 and pause > 0.002:
        node.kernel.run_in_thread(time.sleep, pause)


def ended(node, prog, txn: Txn, error) -> str | None:
    """An attempt ends: None when the block is over - committed, or ended by `error` (which
    the caller raises on; nothing committed) - else why it must run again. What it printed
    is printed now if the block is over, dropped if it runs again."""
    try:
        if error is not None:
            if isinstance(error, Exception) and not still_holds(node, txn):
                prog.txn = None
                return f"what it read changed while it ran (and it raised {error!r})"
            why = None
        else:
            why = commit(node, txn)
    except BaseException:
        prog.txn = None
        raise
    prog.txn = None
    if why is None:
        for stream, text in txn.output:
            programio.write(prog, stream, text)
        node.machine.count("txn_commits")
        cancelled = node.kernel.pending_interrupt()  # (while it committed)
        if cancelled is not None:
            raise cancelled
    return why


def still_holds(node, txn: Txn) -> bool:
    """Did the block read consistent values (checked where they live)? An attempt that
    raised is retried if not (its error may come from a torn read)."""
    for where, (reads, _) in txn.nodes().items():
        if reads and _on(node, where, "txn-check", txn.id, reads, {}) is not None:
            return False
    return True


# ---- the `with` form: the program captured at the block's entry ------------------------------

def can_capture(frame) -> bool:
    """Can the program be captured from `frame` (the caller of __enter__)?"""
    return why_not_capturable(frame, loader.is_compiled_code, loader.is_root_code) is None


class Begin(Operation):
    """The program at a block's entry. `at_capture` keeps a copy of the continuation (the
    node calls it instead of shipping the program, and resumes it here); `perform` starts
    the attempt. A retry resumes a fresh copy of the saved continuation, with the next
    attempt number."""

    __slots__ = ("attempt", "attempts", "saved")
    why = "atomic block"
    stays = True

    def __init__(self, attempt: int, attempts: int, saved: bytes | None = None) -> None:
        self.attempt, self.attempts, self.saved = attempt, attempts, saved

    def at_capture(self, cont):
        if self.saved is None and cont.op is not self:
            self.saved = NO_COPY + b"it was entered inside a generator's call"
        elif self.saved is None:
            try:
                self.saved = codec.encode(cont)
            except NotMigratable as e:  # a local that cannot be copied: it runs once
                self.saved = NO_COPY + str(e).encode()
        return cont

    def perform(self):
        prog = _current()  # (set by watch(), before the block began)
        prog.txn = Txn(prog.id, self.attempt, self.attempts, self.saved)
        return None

    def __reduce__(self):
        return (Begin, (self.attempt, self.attempts, None))


class Retry(Operation):
    """A block that conflicted, going back to its start."""

    __slots__ = ("saved", "attempt", "attempts")
    why = "atomic block retry"
    stays = True

    def __init__(self, saved: bytes, attempt: int, attempts: int) -> None:
        self.saved, self.attempt, self.attempts = saved, attempt, attempts

    def at_capture(self, cont):
        fresh = codec.decode(self.saved)
        fresh.op.attempt, fresh.op.saved = self.attempt, self.saved
        return fresh

    def perform(self):  # (never runs: at_capture put the saved program in its place)
        return None


class Refused(Operation):
    """What a program in a block was captured at (a checkpoint, a library's call that would
    move it): on resuming, at the same place, it raises instead - a block does not move."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def perform(self):
        refuse(f"moving the program ({self.why})")


def refused_move(cont):
    """The continuation of a program captured inside a block, resumed here to raise."""
    cont.op = Refused(getattr(cont.op, "why", type(cont.op).__name__))
    return cont


# ---- effects outside the store ----------------------------------------------------------------

_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_current = None  # the node's kernel.current_context, once a block has run here
_PROCESSES = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                        "os.spawn", "os.fork"})
# (audit events: docs.python.org/3/library/audit_events.html)
_REFUSED = _PROCESSES | {"open", "os.mkdir", "os.remove", "os.rename", "os.rmdir",
                         "os.truncate", "os.symlink", "os.link", "os.chmod", "os.chown",
                         "os.utime", "shutil.rmtree", "shutil.move", "socket.connect",
                         "socket.sendto"}


def _audit(event: str, args) -> None:
    """Refuse, inside a block, what cannot be taken back if it runs again: opening a file to
    write, changing the file system, starting a process, connecting a socket. (Reading is
    fine; prints wait for the commit.)"""
    if _current is None or event not in _REFUSED:
        return
    prog = _current()
    if prog is None or getattr(prog, "txn", None) is None:
        return
    if event == "open":
        mode, flags = args[1], args[2]
        if isinstance(mode, str) and not any(c in mode for c in "wax+"):
            return
        if mode is None and not (flags or 0) & _WRITING:
            return
        refuse(f"opening {args[0]!r} to write")
    if event in _PROCESSES:
        refuse(f"starting a process ({event})")
    refuse(f"{event}() of {args[0]!r}" if args else event)


def watch(node) -> None:
    """Install the audit hook (once per process; it stays: Python cannot remove one)."""
    global _current
    if _current is None:
        _current = node.kernel.current_context
        sys.addaudithook(_audit)
