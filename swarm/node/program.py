"""One program on this node: its context, its output, and what happens when it is captured.

A program runs in its own greenlet (kernel.spawn). It ends on this node in one of three ways:
it finishes (the result goes to its client), it raises (the error and traceback, naming the
nodes it ran on, go to its client), or it is captured by a Ref access, `move_to`, or a
creation elsewhere - then its continuation is shipped to the operation's node.
"""

from __future__ import annotations

import hashlib
import io
import sys
import time
import traceback
from dataclasses import dataclass, field

from swarm.continuation import codec, fallback
from swarm.continuation.capture import Capture
from swarm.continuation.errors import NotMigratable

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
    out: io.StringIO = field(default_factory=io.StringIO)
    imported: dict = field(default_factory=dict)  # its modules, while it is switched out

    def enter(self) -> None:
        """The kernel switches to this program: its own modules become sys.modules' entries
        (two programs on a node may import different modules of one name, or the same one:
        each has its own module objects, as in a process of its own)."""
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

    def next_id(self) -> str:
        """An id for a hop (or future) this program makes, derived from the hop it resumed
        from: run again from the same hop (after a crash, see ledger.py), it makes the same
        ids, so what it sends again is taken once."""
        made, self.made = self.made, self.made + 1
        return hashlib.blake2b(f"{self.hop_id or self.id}/{made}".encode(),
                               digest_size=10).hexdigest()

    def arrived(self, node: str) -> None:
        """Note the node in the route. A program may hop millions of times: the route keeps
        its first and last stops, so the metadata that travels with every hop stays small."""
        if not self.route or self.route[-1] != node:
            self.route.append(node)
            if len(self.route) > ROUTE_KEEP:
                self.route[ROUTE_HEAD:-ROUTE_TAIL] = ["..."]

    def meta(self) -> dict:
        return {"program": self.id, "client": self.client, "modules": self.modules,
                "argv": self.argv, "hop_checkpoints": self.hop_checkpoints, "seq": self.seq,
                "route": self.route, "policy": self.policy, "strict": self.strict,
                "task": self.task, "trace": self.trace, "last_ref": self.last_ref,
                "record_access": self.record_access}

    @classmethod
    def from_meta(cls, meta: dict, hop_id: str | None, again: bool = False) -> Program:
        return cls(meta["program"], meta["client"], meta["modules"], meta["argv"],
                   meta["hop_checkpoints"], meta.get("policy", "migrate"),
                   meta.get("strict", False), False, meta["seq"], list(meta["route"]), hop_id,
                   meta.get("task"), meta.get("trace", False), again=again,
                   record_access=meta.get("record_access", True),
                   last_ref=meta.get("last_ref"))


def submit_id(program: str) -> str:
    """The id of the "hop" a client's submission is: the program's first segment (the ids it
    makes derive from this, so a segment run again after a crash makes the same ones)."""
    return hashlib.blake2b(f"{program}/submit".encode(), digest_size=10).hexdigest()


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
    """The body of a program's greenlet: run until finished, failed or captured."""
    program.arrived(node.name)
    sys.argv = list(program.argv)
    while True:
        try:
            result_module = start()
        except Capture as c:
            program.captured_at = time.time()
            node.flush_output(program)
            start = _after_capture(node, program, c)
            if start is None:
                return
            continue
        except BaseException as e:  # the program's own error, reported to its client
            node.flush_output(program)
            tb = "".join(traceback.format_exception(e))
            node.finish(program, error=f"{type(e).__name__}: {e}", tb=tb)
            return
        node.flush_output(program)
        value = getattr(result_module, "__dict__", {}).get("RESULT") if result_module else None
        node.finish(program, value=value)
        return


class FetchInstead(Exception):
    """The auto policy chose to fetch: the program goes on here."""


def _after_capture(node, program: Program, c: Capture):
    """Ship the captured program; None when it left (or failed), else how to go on here."""
    try:
        node.ship(program, c)
        return None
    except FetchInstead:
        program.fetch_once = True
        return _resume_here(c.continuation())
    except NotMigratable as e:
        cont = c.continuation()
        if program.strict or not cont.frames or getattr(e, "frames_lost", False):
            node.finish(program, error=f"NotMigratable: {e}", tb="")
            return None
        if cont.generators:  # generators the capture unwound: rebuilt here from their records
            try:
                cont = codec.rebuilt_here(cont)
            except Exception:
                node.finish(program, error=f"NotMigratable: {e}", tb="")
                return None
        # Discussion: the fallback. The continuation could not be pickled, but its frames
        # are intact in memory: resume it right here, and let the pending access fetch the
        # value instead of moving the program. Counted in the node's `fetches`, told once
        # on the program's stderr.
        fallback.fall_back(str(e).removeprefix("cannot migrate "), strict=False)
        node.stats["fallbacks"] += 1
        program.fetch_once = True
        return _resume_here(cont)
    except Exception as e:  # a bug of ours or a bad destination: the program fails, the
        # node goes on serving
        node.finish(program, error=f"{type(e).__name__}: {e}",
                    tb="".join(traceback.format_exception(e)))
        return None


def _resume_here(cont):
    from swarm.continuation.resume import resume

    def start():
        module = cont.frames[0].module
        resume(cont)
        return module

    return start
