"""One program on this node: its context, its output, and what happens when it is captured.

A program runs in its own greenlet (kernel.spawn). It ends on this node in one of three ways:
it finishes (the result goes to its client), it raises (the error and traceback, naming the
nodes it ran on, go to its client), or it is captured by a Ref access, `move_to`, or a
creation elsewhere - then its continuation is shipped to the operation's node.
"""

from __future__ import annotations

import io
import pickle
import sys
import time
import traceback
from dataclasses import dataclass, field

from swarm.continuation import codec, fallback
from swarm.continuation.capture import Capture, check_root
from swarm.continuation.errors import NotMigratable
from swarm.continuation.generators import abandon
from swarm.continuation.primitives import Checkpoint
from swarm.continuation.resume import resume
from swarm.node.asking import ask
from swarm.node.machine.events import HopSent, ProgramFinished, ProgramPrinted
from swarm.node.machine.ids import derived_id

ROUTE_HEAD, ROUTE_TAIL = 8, 55  # stops of a long route that are kept
ROUTE_KEEP = ROUTE_HEAD + 1 + ROUTE_TAIL


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
    again: bool = False  # may be running its hop a second time (after a restart or a
    # resend): the hops it sends say so, and their receivers look for them among those taken
    record_access: bool = True  # count its Ref accesses for the placer (access.py)
    last_ref: str | None = None  # the Ref it touched last (access.py)
    hop_bytes: int = 0  # the size of the continuation it arrived in
    submitted: float = 0.0  # when its client submitted it (seconds since the epoch)
    cwd: str = ""  # the directory it was started from (its client's)
    out: io.StringIO = field(default_factory=io.StringIO)
    mark: bytes = b""  # its id as the kernel marks it running (quarantine)
    imported: dict = field(default_factory=dict)  # its modules, while it is switched out

    def enter(self) -> None:
        """The kernel switches to this program: its own process state comes in - its
        sys.argv, and its modules as sys.modules' entries (two programs on a node may import
        different modules of one name, or the same one: each has its own module objects, as
        in a process of its own)."""
        sys.argv = self.argv
        for name in self.modules:
            module = self.imported.get(name)
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module

    def leave(self) -> None:
        for name in self.modules:
            module = sys.modules.pop(name, None)
            if module is not None:
                self.imported[name] = module

    def __post_init__(self) -> None:
        self.mark = self.id.split("/", 1)[0].encode()[:240]

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

    def arrived(self, node: str) -> None:
        """Note the node in the route. A program may hop millions of times: the route keeps
        its first and last stops, so the metadata that travels with every hop stays small."""
        if not self.route or self.route[-1] != node:
            self.route.append(node)
            if len(self.route) > ROUTE_KEEP:
                self.route[ROUTE_HEAD:-ROUTE_TAIL] = ["..."]

    def meta(self) -> dict:
        return {"program": self.id, "client": self.client, "modules": self.modules,
                "argv": list(self.argv), "hop_checkpoints": self.hop_checkpoints, "seq": self.seq,
                "route": self.route, "policy": self.policy, "strict": self.strict,
                "task": self.task, "trace": self.trace, "last_ref": self.last_ref,
                "record_access": self.record_access, "submitted": self.submitted,
                "cwd": self.cwd}

    @classmethod
    def from_meta(cls, meta: dict, hop_id: str | None, again: bool = False) -> Program:
        return cls(meta["program"], meta["client"], meta["modules"], meta["argv"],
                   meta["hop_checkpoints"], meta.get("policy", "migrate"),
                   meta.get("strict", False), False, meta["seq"], list(meta["route"]), hop_id,
                   meta.get("task"), meta.get("trace", False), again=again,
                   record_access=meta.get("record_access", True),
                   last_ref=meta.get("last_ref"), submitted=meta.get("submitted", 0.0),
                   cwd=meta.get("cwd", ""))


class ProgramOutput(io.TextIOBase):
    """sys.stdout on a node: each program's prints go to its own buffer (then to its client);
    anything printed outside a program goes to the node's log."""

    def __init__(self, kernel, fallback) -> None:
        self.kernel = kernel
        self.fallback = fallback

    def write(self, s: str) -> int:
        program = self.kernel.current_context()
        if program is None:
            return self.fallback.write(s)
        return program.out.write(s)

    def flush(self) -> None:
        self.fallback.flush()


def run(node, program: Program, start) -> None:
    """The body of a program's greenlet: run until finished, failed or captured. `node`: the
    shell (what a program needs of its node: emit, kernel, machine, config)."""
    program.arrived(node.name)
    while True:
        try:
            result_module = start()
        except Capture as c:
            program.captured_at = time.time()
            flush_output(node, program)
            start = _after_capture(node, program, c)
            if start is None:
                return
            continue
        except BaseException as e:  # the program's own error, reported to its client
            flush_output(node, program)
            tb = "".join(traceback.format_exception(e))
            finish(node, program, error=f"{type(e).__name__}: {e}", tb=tb)
            return
        flush_output(node, program)
        value = getattr(result_module, "__dict__", {}).get("RESULT") if result_module else None
        finish(node, program, value=value)
        return


def flush_output(node, prog: Program) -> None:
    text = prog.out.getvalue()
    if text:
        prog.out.seek(0)
        prog.out.truncate()
        node.emit(ProgramPrinted(prog.id, prog.client, prog.seq, text))
        prog.seq += 1


def finish(node, prog: Program, value=None, error: str | None = None, tb: str = "") -> None:
    """The program ended here: its result (kept, then sent once its end is written), or for
    a task nothing (its result went to its future)."""
    result = None
    if not prog.task:
        try:
            blob = pickle.dumps(value, protocol=5)
        except Exception:  # a value that does not pickle goes as its repr
            blob = pickle.dumps(repr(value), protocol=5)
        result = {"program": prog.id, "seq": prog.seq, "ok": error is None, "error": error,
                  "traceback": tb, "route": prog.route, "value": blob}
    node.emit(ProgramFinished(prog.id, prog.client, prog.hop_id, result, error))


class FetchInstead(Exception):
    """The auto policy chose to fetch: the program goes on here."""


def ship(node, prog: Program, c: Capture) -> None:
    """Send a captured program to the node of its pending operation."""
    cont = c.continuation()
    check_root(c, cont)
    dest = getattr(c.leaf, "destination", None)
    names = node.config.names
    if dest is None and isinstance(c.leaf, Checkpoint):  # hop_checkpoints: the next node
        dest = names[(names.index(node.name) + 1) % len(names)]
    if dest not in node.config.nodes:
        raise ValueError(f"the program wants node {dest!r}, not in the cluster")
    parked: list = []
    carried: dict[str, str] = {}
    data = codec.encode(cont, parked, carried)
    if prog.policy == "auto" and not cont.generators and _fetch_is_smaller(node, c.leaf,
                                                                           len(data)):
        node.machine.count("auto_fetches")
        raise FetchInstead()
    abandon(parked)
    # why: for the trace (swarm run --trace) and the receiver's record of recent hops
    # (machine/history.py, the dashboard's timeline): about 40 bytes
    meta = prog.meta() | {"hop_id": prog.next_id(), "from": node.name,
                          "needs": [*carried, *prog.modules.values()],
                          "why": [c.leaf.why, node.name, len(data), prog.captured_at]}
    node.emit(HopSent(dest, meta, data, prog.hop_id, prog.again, node.load() - 1))


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
        ship(node, program, c)
        return None
    except FetchInstead:
        program.fetch_once = True
        return _resume_here(c.continuation())
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
    except Exception as e:  # a bug of ours or a bad destination: the program fails, the
        # node goes on serving
        finish(node, program, error=f"{type(e).__name__}: {e}",
               tb="".join(traceback.format_exception(e)))
        return None


def _resume_here(cont):
    def start():
        module = cont.frames[0].module
        resume(cont)
        return module

    return start
