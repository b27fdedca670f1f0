"""One program on this node: its context, its output, and what happens when it is captured.

A program runs in its own greenlet (kernel.spawn). It ends on this node in one of three ways:
it finishes (the result goes to its client), it raises (the error and traceback, naming the
nodes it ran on, go to its client), or it is captured by a Ref access, `move_to`, or a
creation elsewhere - then its continuation is shipped to the operation's node.
"""

from __future__ import annotations

import pickle
import re
import sys
import time
import traceback
from dataclasses import dataclass, field

from swarm.compiler import registry
from swarm.continuation import codec, fallback, process_state
from swarm.continuation.capture import Capture, check_root
from swarm.continuation.errors import NotMigratable
from swarm.continuation.generators import abandon
from swarm.continuation.primitives import Checkpoint
from swarm.continuation.resume import resume
from swarm.node import memory, process, programio, txnserve
from swarm.node.asking import ask
from swarm.node.machine.access import STAR
from swarm.node.machine.events import HopSent, ProgramFinished
from swarm.node.machine.ids import derived_id
from swarm.node.process import ProgramProcess
from swarm.wire.values import ValueTooLarge, limit_error

_NO_EXIT = object()  # finish(): the program did not end with SystemExit
ROUTE_HEAD, ROUTE_TAIL = 8, 55  # stops of a long route that are kept
ROUTE_KEEP = ROUTE_HEAD + 1 + ROUTE_TAIL
RESULT_ROOM = 64 * 1024  # what a result or output message holds beside the value or text


@dataclass
class Program:
    id: str
    client: str  # client identity (ZeroMQ routing id) that waits for output
    modules: dict[str, str]  # module name -> source hash (the program's own modules)
    argv: list[str] = field(default_factory=list)
    hop_checkpoints: bool = False  # every checkpoint() moves on to the next node
    policy: str = "migrate"  # migrate | fetch | auto: what touching a remote Ref does
    strict: bool = False  # a program that cannot migrate fails instead of fetching
    fetch_once: bool = False  # the fallback: the next remote access fetches
    seq: int = 0  # output sequence number, carried across hops
    route: list[str] = field(default_factory=list)  # nodes it ran on, in order (bounded)
    hop_id: str | None = None  # the accepted hop it is running (None: started here)
    task: str | None = None  # a spawned task: the id of its future
    trace: bool = False  # report every hop to the client (swarm run --trace)
    captured_at: float = 0.0  # when it was last captured (for the trace)
    made: int = 0  # ids made by next_id() since it arrived
    asked: int = 0  # questions with an id it asked since it arrived (asking.question_id)
    asked_at: list = field(default_factory=list)  # the nodes it asked since it arrived, one
    # entry a question (at most ASKED_KEPT): its result says so (swarm.web.Starts)
    again: bool = False  # may be running its hop a second time (after a restart or a
    # resend): the hops it sends say so, and their receivers look for them among those taken
    record_access: bool = True  # count its Ref accesses for the placer (access.py)
    last_ref: str | None = None  # the Ref it touched last (access.py)
    first_ref: str | None = None  # the Ref it touched first (access.py)
    star: int = STAR  # how many more Refs it touches are tied to its first one (access.py)
    hop_bytes: int = 0  # the size of the continuation it arrived in
    values: list = field(default_factory=list)  # hashes of its large values at its last
    # hop (program.ship): those still the same at the next one go by hash
    submitted: float = 0.0  # when its client submitted it (seconds since the epoch)
    cwd: str = ""  # the directory it was started from (its client's), or its chdir's
    mark: bytes = b""  # its id as the kernel marks it running (quarantine)
    imported: dict = field(default_factory=dict)  # its modules, while it is switched out
    brought: set = field(default_factory=set)  # module names a continuation brought it
    node: object = None  # the shell of the node it runs on (what output is sent through)
    chunks: list = field(default_factory=list)  # output not sent yet: [stream, text]
    flushed_at: float = 0.0  # when output was last sent (programio.py)
    stdin: str = ""  # input its client sent that it has not read
    stdin_mode: str = "none"  # forward (ask its client) | detached | none: see programio
    stdin_eof: bool = False
    stdin_asked: int = 0  # questions (`input?`) asked of its client so far
    environ: dict = field(default_factory=dict)  # its changes to os.environ (at arrival)
    path_head: list = field(default_factory=list)  # its sys.path additions (at arrival)
    path_tail: list = field(default_factory=list)
    process: ProgramProcess | None = None  # its own process state (process.py)
    files: dict = field(default_factory=dict)  # module name -> its file (registry.py)
    ended: bool = False  # it finished, failed or left this node (run() returned)
    txn: object = None  # the attempt of an atomic block it is in (txnserve.Txn; never travels)
    shielded: bool = False  # a cancel waits while it is True (txnserve._commit_everywhere)
    # futures it spawned here, by home node, not read yet; and results of some of them
    # read ahead with another's (futurewait.fetch_if_done): both forgotten when it hops
    spawned: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)

    def enter(self) -> None:
        """The kernel switches to this program: its own process state comes in - its
        sys.argv, environment, directory, sys.path, __main__, random generator, logging and
        warnings setup (process.py), and its modules as sys.modules' entries (two programs
        on a node may import different modules of one name, or the same one: each has its
        own module objects, as in a process of its own)."""
        for name in self._swapped():
            module = self.imported.get(name)
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        registry.program_files = self.files
        process.enter(self.process, self._note)
        if self.node is not None:  # (the Ref writes it makes are its segment's: ledger.py)
            self.node.machine.data.segment = self.hop_id

    def leave(self) -> None:
        """Switched out: what it printed is sent (programio.py), its process state kept."""
        if self.chunks:
            programio.flush(self)
        process.leave(self.process)
        registry.program_files = {}
        if self.node is not None:
            self.node.machine.data.segment = None
        self.brought |= process_state.brought
        process_state.brought.clear()
        for name in self._swapped():
            module = sys.modules.pop(name, None)
            if module is not None and not self.ended:
                self.imported[name] = module
        if self.ended:  # nothing of it stays here (memory.py)
            self.imported.clear()
            self.process.main = None
            memory.reclaimer.program_ended()

    def _swapped(self):
        """The sys.modules names it swaps in and out: its own modules, and those a
        continuation brought it (process_state.brought: a task's `__swarm_task__`, made again
        where a task that hopped arrives, a module first imported on another node). Left in
        sys.modules, the next program on the node carried such a module - and the other
        program's `__main__` it holds - in its every hop."""
        return self.modules.keys() | self.brought if self.brought else self.modules

    def _note(self, text: str) -> None:
        programio.write(self, "err", text)

    def __post_init__(self) -> None:
        self.mark = self.id.split("/", 1)[0].encode()[:240]
        self.process = ProgramProcess(self.argv, self.cwd, self.environ, self.path_head,
                                      self.path_tail)

    def should_fetch(self) -> bool:
        """Does its next remote access fetch (the fetch policy, or once after a capture
        that could not move it)?"""
        if self.fetch_once:
            self.fetch_once = False
            return True
        return self.policy == "fetch"

    def next_id(self) -> str:
        """An id for a hop (or future) this program makes, derived from the hop it resumed
        from: run again from the same hop (after a crash, see ledger.py), it makes the same
        ids, so what it sends again is taken once."""
        made, self.made = self.made, self.made + 1
        return derived_id(self.hop_id or self.id, made)

    def next_question_id(self) -> str:
        """The number of a question that changes something (asking.question_id): the same
        when it runs again from the same hop and asks the same questions in order."""
        asked, self.asked = self.asked, self.asked + 1
        return derived_id(self.hop_id or self.id, f"q{asked}")

    def arrived(self, node: str) -> None:
        """Note the node in the route. A program may hop millions of times: the route keeps
        its first and last stops, so the metadata that travels with every hop stays small."""
        if not self.route or self.route[-1] != node:
            self.route.append(node)
            if len(self.route) > ROUTE_KEEP:
                self.route[ROUTE_HEAD:-ROUTE_TAIL] = ["..."]

    def meta(self) -> dict:
        """What travels with the program (a hop's meta, HOP_META in swarm/wire/kinds.py)."""
        if self.node is not None and self.node.kernel.current_context() is self:
            process.sync(self.process)  # it runs: its directory and sys.path as they are now
        meta = {"program": self.id, "client": self.client, "modules": self.modules,
                "argv": list(self.argv), "hop_checkpoints": self.hop_checkpoints,
                "seq": self.seq, "route": self.route, "policy": self.policy,
                "strict": self.strict, "task": self.task, "trace": self.trace,
                "last_ref": self.last_ref, "first_ref": self.first_ref, "star": self.star,
                "record_access": self.record_access,
                "submitted": self.submitted, "stdin_mode": self.stdin_mode}
        if self.values:
            meta["values"] = self.values
        if self.files:
            meta["files"] = self.files
        meta.update(self.process.meta())  # cwd, environ, path_head, path_tail
        if self.stdin:
            meta["stdin"] = self.stdin
        if self.stdin_eof:
            meta["stdin_eof"] = True
        if self.stdin_asked:
            meta["stdin_asked"] = self.stdin_asked
        return meta

    @classmethod
    def from_meta(cls, meta: dict, hop_id: str | None, again: bool = False) -> Program:
        return cls(meta["program"], meta["client"], meta["modules"], meta["argv"],
                   meta["hop_checkpoints"], meta.get("policy", "migrate"),
                   meta.get("strict", False), False, meta["seq"], list(meta["route"]), hop_id,
                   meta.get("task"), meta.get("trace", False), again=again,
                   record_access=meta.get("record_access", True),
                   last_ref=meta.get("last_ref"), first_ref=meta.get("first_ref"),
                   star=meta.get("star", STAR),
                   submitted=meta.get("submitted", 0.0),
                   cwd=meta.get("cwd", ""), stdin=meta.get("stdin", ""),
                   stdin_mode=meta.get("stdin_mode", "none"),
                   stdin_eof=meta.get("stdin_eof", False),
                   stdin_asked=meta.get("stdin_asked", 0),
                   environ=meta.get("environ", {}), path_head=meta.get("path_head", []),
                   path_tail=meta.get("path_tail", []), files=meta.get("files", {}),
                   values=meta.get("values", []))


def run(node, program: Program, start) -> None:
    """The body of a program's greenlet: run until finished, failed or captured. `node`: the
    shell (what a program needs of its node: emit, kernel, machine, config)."""
    program.arrived(node.name)
    program.node = node
    node.machine.data.segment = program.hop_id  # (enter() ran before it knew its node)
    try:
        _run(node, program, start)
    finally:
        program.ended = True  # (its switch-out lets go of its modules: Program.leave)


def _run(node, program: Program, start) -> None:
    while True:
        try:
            result_module = start()
        except Capture as c:
            program.captured_at = time.time()
            programio.flush(program)
            start = _after_capture(node, program, c)
            if start is None:
                return
            continue
        except SystemExit as e:  # sys.exit(): its code, as a process would end with it
            programio.flush(program)
            finish(node, program, error=f"SystemExit: {e.code}" if e.code is not None
                   else "SystemExit", exit=_exit_code(e.code))
            return
        except BaseException as e:  # the program's own error, reported to its client
            if isinstance(e, MemoryError):  # room for the node's code that ends it
                memory.reclaimer.release_reserve()
            programio.flush(program)
            tb = labelled(traceback.format_exception(e), node.name)
            error = f"{type(e).__name__}: {e}"
            del e  # (its traceback holds the program's frames)
            try:
                finish(node, program, error=error, tb=tb)
            except MemoryError:  # the reserve was not enough: free what can be, once
                memory.reclaimer.collect()
                finish(node, program, error=error, tb=tb)
            return
        programio.flush(program)
        value = getattr(result_module, "__dict__", {}).get("RESULT") if result_module else None
        finish(node, program, value=value)
        return


def _exit_code(code):
    """SystemExit's code as the wire carries it: None, an int (bool: 0 or 1), or else its
    str - what `python` prints for it."""
    if code is None or isinstance(code, str):
        return code
    if isinstance(code, int):
        return int(code)
    return str(code)


_FRAME_LINE = re.compile(r'^  File "[^"]*", line \d+, in .*$')


def labelled(lines: list[str], node: str) -> str:
    """A formatted traceback whose frame lines end with the node they were on when the
    error happened (` [n2]`), and whose last line names the node it was raised on.

    Discussion: every frame of a running program is on one node at a time (a hop moves all
    of them), so within one traceback they share a node; a chained exception's traceback
    raised on another node before a hop does not survive the hop (tracebacks do not
    pickle), and shows no frames."""
    out = []
    for chunk in lines:
        for line in chunk.splitlines(keepends=True):
            if _FRAME_LINE.match(line):
                line = f"{line.rstrip(chr(10))} [{node}]\n"
            out.append(line)
    text = "".join(out)
    if not text.endswith("\n"):
        text += "\n"
    return f"{text}(raised on {node})\n"


def finish(node, prog: Program, value=None, error: str | None = None, tb: str = "",
           exit=_NO_EXIT) -> None:
    """The program ended here: its result (kept, then sent once its end is written), or for
    a task nothing (its result went to its future). `exit`: SystemExit's code."""
    result = None
    if not prog.task:
        note = None
        try:
            blob = pickle.dumps(value, protocol=5)
        except Exception as e:  # a value that does not pickle goes as its repr - said so
            blob = pickle.dumps(repr(value), protocol=5)
            note = (f"RESULT (a {type(value).__name__}) cannot be pickled ({type(e).__name__}: "
                    f"{e}): its repr is sent instead")
        room = node.config.max_message_bytes - RESULT_ROOM
        if len(blob) > room and error is None:  # its client would drop it unread
            error = "ValueTooLarge: " + limit_error(
                "the program's result", len(blob), room, "max_message_bytes") + \
                ": return it in a Ref"
            blob = pickle.dumps(None, protocol=5)
        result = {"program": prog.id, "seq": prog.seq, "ok": error is None, "error": error,
                  "traceback": tb, "route": prog.route, "value": blob, "node": node.name}
        if exit is not _NO_EXIT:
            result["exit"] = exit
        if note:
            result["note"] = note
        if prog.asked_at:
            result["asked"] = prog.asked_at
    node.emit(ProgramFinished(prog.id, prog.client, prog.hop_id, result, error))


def arriving(node, prog: Program, g, meta: dict, interrupt: bool) -> None:
    """A program that hopped here, spawned in greenlet g (not started yet): how it takes a
    cancel - `interrupt` (cancelled before it came), or one that comes before it resumes.

    Discussion: a cancel must not drop a program it meets between two nodes: its hop in
    flight, taken after the cancel, or spawned here and not run yet. Ctrl-C stops a script
    where it is, and its `except` and `finally` blocks run (and the Ref writes they make);
    so the program is shielded until its continuation is decoded, and then resumed with
    the interrupt raised at its suspension point (resume_arrived). Once thrown, the
    interrupt travels (meta["interrupted"], the seconds since): the hops of its `finally`
    are not interrupted again, and it is stopped ABANDON_SECONDS after the interrupt,
    wherever it is then, as a program that caught it and went on is (kernel.py)."""
    interrupted = meta.get("interrupted")
    if interrupted is not None:  # (stopped at once if that was ABANDON_SECONDS ago)
        node.kernel.interrupted_before(g, interrupted)
        return
    prog.shielded = True  # (until resume_arrived: a cancel waits)
    if interrupt:
        node.kernel.cancel(lambda ctx: ctx is prog)


def resume_arrived(node, prog: Program, cont) -> None:
    """Resume a program that hopped here (arriving): with the cancel's KeyboardInterrupt
    raised where it waits, if one came."""
    prog.shielded = False
    resume(cont, node.kernel.pending_interrupt())


class FetchInstead(Exception):
    """The auto policy chose to fetch: the program goes on here."""


def ship(node, prog: Program, c: Capture) -> None:
    """Send a captured program to the node of its pending operation."""
    cont = c.continuation()
    check_root(c, cont)
    dest = getattr(c.leaf, "destination", None)
    names = [n for n in node.config.names if n not in node.machine.fenced]
    if dest is None and isinstance(c.leaf, Checkpoint):  # hop_checkpoints: the next node
        dest = names[(names.index(node.name) + 1) % len(names)]
    if dest not in node.config.nodes:
        raise ValueError(f"the program wants node {dest!r}, not in the cluster")
    dest = node.machine.route(dest)  # (a removed node: its heir, machine/fences.py)
    parked: list = []
    carried: dict[str, str] = {}
    full = node.machine.held_bytes >= node.config.held_values_bytes  # (none named anew)
    data, by_hash = _encode(prog, cont, parked, carried, node.config.max_message_bytes // 4,
                            node.machine.sources if full else None)
    if len(data) > node.config.max_value_bytes:
        raise ValueTooLarge(limit_error(
            f"the program's continuation at `{c.leaf.why}` (its locals and globals)",
            len(data), node.config.max_value_bytes) + ": keep large values in Refs")
    if prog.policy == "auto" and not cont.generators and _fetch_is_smaller(node, c.leaf,
                                                                           len(data)):
        node.machine.count("auto_fetches")
        raise FetchInstead()
    abandon(parked)
    # why: for the trace (swarm run --trace) and the receiver's record of recent hops
    # (machine/history.py, the dashboard's timeline): about 40 bytes
    meta = prog.meta() | {"hop_id": prog.next_id(), "from": node.name,
                          "needs": [*carried, *prog.modules.values(), *by_hash],
                          "why": [c.leaf.why, node.name, len(data), prog.captured_at]}
    interrupted = node.kernel.interrupted_for()
    if interrupted is not None:  # (its cancel's: not thrown again where it goes, arriving)
        meta["interrupted"] = interrupted
    if by_hash:
        node.machine.count("values_by_hash", len(by_hash))
    node.emit(HopSent(dest, meta, data, prog.hop_id, prog.again, node.load() - 1,
                      by_hash or None))


def _encode(prog: Program, cont, parked: list, carried: dict, largest: int,
            only_held: dict | None) -> tuple[bytes, dict]:
    """The continuation's bytes, and the large values they name by hash ({hex hash: pickle}).

    Discussion: a large module global or local (contentaddr.py: 64 KiB pickled) that was
    the same at the program's hop before (`prog.values`, carried in the hop's meta) goes by
    hash: this node keeps it in its sources (HopSent.values; written before the hop
    leaves), the hop names it in `needs`, and a receiver that lacks it asks this node once
    (`source?`, as for a module's code) and keeps it. A value new at this hop (built or
    changed since) travels inside the hop as before, and nobody keeps it: a value that
    changes at every hop costs what it did, and is never stored. So a 16 MiB table a program
    carries among three nodes crosses to each node about once (docs/nodes.md). A value over
    `largest` bytes (a quarter of max_message_bytes: it is kept as a row of the store,
    copied to the mirror in one message) travels inside every hop; so does one this node
    does not hold already once it holds held_values_bytes of them (`only_held`: its sources
    then)."""
    same = {bytes.fromhex(h) for h in prog.values}
    if only_held is not None:
        same = {h for h in same if h.hex() in only_held}
    found: dict[bytes, bytes] = {}
    data = codec.encode(cont, parked, carried, keep=found, receiver_has=lambda h: (
        h in same and len(found[h]) <= largest))
    prog.values = [h.hex() for h in found]
    return data, {h.hex(): blob for h, blob in found.items()
                  if h in same and len(blob) <= largest}


def _fetch_is_smaller(node, op, continuation_bytes: int) -> bool:
    """The auto policy: would fetching move fewer bytes than the continuation? A write (or a
    creation elsewhere) carries its value in the continuation too, so it always fetches; a
    read asks the Ref's node for the value's size."""
    auto = getattr(op, "auto", "migrate")
    if auto != "size":
        return auto == "fetch"
    reply, size = ask(node, op.ref.hint, "size", op.ref.id)
    if reply.get("moved_to"):
        op.ref.hint = reply["moved_to"]
        return False  # it moved meanwhile: follow it
    return size is not None and size < continuation_bytes


def _after_capture(node, program: Program, c: Capture):
    """Ship the captured program; None when it left (or failed), else how to go on here."""
    try:
        at_capture = getattr(c.leaf, "at_capture", None)
        if at_capture is not None:  # an atomic block's entry or retry: it stays here
            return _resume_here(at_capture(c.continuation()))
        if program.txn is not None:  # inside a block, which does not move: refused there
            return _resume_here(txnserve.refused_move(c.continuation()))
        ship(node, program, c)
        return None
    except FetchInstead:
        program.fetch_once = True
        return _resume_here(c.continuation())
    except KeyboardInterrupt as e:  # a cancel thrown where the node waited for it (the auto
        # policy's question): nothing left; raised where the program waits, as on arrival
        return _resume_here(c.continuation(), e)
    except NotMigratable as e:
        cont = c.continuation()
        if program.strict or not cont.frames or getattr(e, "frames_lost", False):
            finish(node, program, error=f"NotMigratable: {e}", tb="")
            return None
        if cont.generators:  # generators the capture unwound: rebuilt here from their records
            try:
                cont = codec.rebuilt_here(cont)
            except Exception:
                finish(node, program, error=f"NotMigratable: {e}", tb="")
                return None
        # Discussion: the fallback. The continuation could not be pickled, but its frames
        # are intact in memory: resume it right here, and let the pending access fetch the
        # value instead of moving the program. Counted in the node's `fallbacks`, told once
        # on the program's stderr.
        reason = str(e).removeprefix("cannot migrate ")
        fallback.fall_back(reason, strict=False)
        node.machine.count("fallbacks")
        node.machine.fallbacks.note(reason)
        program.fetch_once = True
        return _resume_here(cont)
    except ValueTooLarge as e:  # (the program's own frames are gone: no traceback of ours)
        finish(node, program, error=f"ValueTooLarge: {e}", tb="")
        return None
    except Exception as e:  # a bug of ours or a bad destination: the program fails, the
        # node goes on serving
        finish(node, program, error=f"{type(e).__name__}: {e}",
               tb=labelled(traceback.format_exception(e), node.name))
        return None


def _resume_here(cont, interrupt: BaseException | None = None):
    def start():
        module = cont.frames[0].module
        resume(cont, interrupt)
        return module

    return start

