"""What comes back of programs submitted to a cluster, and how a client keeps it.

Output comes back in program order wherever the program runs: every `output` message carries
the program's sequence number, and `Run` puts them in that order (per program and per task)
before they are printed. A program's end is a `RunOutcome`; `swarm ps` rows are ProgramInfo.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field

from swarm.exits import exit_of
from swarm.wire import decode


@dataclass
class RunOutcome:
    """How a program ended: what it printed (`stdout`, and `stderr`: what it wrote there,
    its logging and warnings included), its `RESULT` global, its error line and traceback
    (None and "" if it succeeded; the traceback's frames name the node they were on), the
    nodes it ran on, and its hops (with trace=True). `ended` holds the result's other
    fields: `exit` (SystemExit's code, when it ended so), `node` (where it ended), `note`
    (something the user should know: a RESULT that could not be pickled was sent as its
    repr)."""

    stdout: str
    value: object
    error: str | None
    traceback: str = ""
    route: list[str] = field(default_factory=list)
    trace: list[dict] = field(default_factory=list)  # hops, with run_file(trace=True)
    ended: dict = field(default_factory=dict)
    stderr: str = ""

    def exit_status(self) -> tuple[int, str]:
        """What `python` would end with for this program: (exit status, text for stderr) -
        0 and "" for success, SystemExit's code without a traceback, else 1 (130 for
        KeyboardInterrupt) and the traceback of the user's frames (swarm/exits.py)."""
        return exit_of(self.error, self.traceback, self.ended)


RESUBMIT_SECONDS = 1.0  # a submission not confirmed in this time is sent again ...
NOT_ACCEPTED_SECONDS = 5.0  # ... and after this long, swarm run says its node has not
COLLECT_SECONDS = 3.0  # silence after which the nodes are asked for what they kept ...
COLLECT_MAX_SECONDS = 60.0  # ... then twice as long each time nothing new came, up to this


class UnknownProgram(LookupError):
    """No node of the cluster knows this program id (never submitted, or its outcome is no
    longer kept), or the id is not of the form program ids have."""


#: a program id: the submitting client's id (c<pid>-<8 hex>) and its count there
PROGRAM_ID = re.compile(r"c\d+-[0-9a-f]{8}-\d+")


def check_program_id(program: str) -> str:
    """The id, or UnknownProgram if it cannot be one (a typo), before asking any node."""
    if not PROGRAM_ID.fullmatch(program):
        raise UnknownProgram(f"{program!r} is not a program id (ids look like "
                             f"c12345-1a2b3c4d-1, as `swarm run --detach` prints them)")
    return program


@dataclass
class ProgramInfo:
    """A program (or task) as a node reports it to `programs?` (swarm ps)."""

    program: str
    node: str
    state: str  # running | parked | waiting
    since: float  # when it was submitted (seconds since the epoch)
    client: str = ""
    task: str | None = None

    @classmethod
    def of(cls, node: str, row: dict) -> ProgramInfo:
        return cls(row.get("program", "?"), node, row.get("state", "?"),
                   float(row.get("since", 0.0)), row.get("client", ""), row.get("task"))


class Run:
    """What came back so far of one submitted program (and its tasks): output chunks are put
    in order by their sequence numbers, per program or task. `node` and `submission`: where
    and what was submitted (sent again until `confirmed`); None for another client's
    program, which is only collected."""

    def __init__(self, program: str, node: str | None = None,
                 submission: dict | None = None) -> None:
        self.program, self.node, self.submission = program, node, submission
        self.confirmed = submission is None
        # another client's program: the nodes are asked at once for what they kept of it
        now = time.monotonic()
        self.sent = now  # (submitted here: since when it waits to be accepted)
        self.told_unaccepted = False
        self.heard = now if submission is not None else now - COLLECT_SECONDS
        self.asked = self.heard
        self.patience = COLLECT_SECONDS
        self.pending: dict[str, dict[int, str]] = {}  # program or task -> chunks by seq
        self.next_seq: dict[str, int] = {program: 0}  # program or task -> next to print
        self.printed: list[str] = []  # stdout, in program order
        self.errors: list[str] = []  # stderr
        self.shown: list[tuple[bool, str]] = []  # (is stderr, text): both, in program order
        self.echo, self.echoed = False, 0
        self.hops: list[dict] = []
        self.result: dict | None = None
        self.unknown_to: set[str] = set()  # nodes that answered `unknown` for it
        self.waiting: tuple[str, float] | None = None  # (node, since): see take()
        self.unseen = 0  # search rounds after a fence in which no live node knew it

    def take(self, kind: str, who: str, p: dict) -> None:
        self.heard, self.patience = time.monotonic(), COLLECT_SECONDS
        if kind != "waiting":  # (a submission a node could not take is not confirmed)
            self.confirmed = True
        chunks = self.pending.setdefault(who, {})
        if kind == "output":
            chunks[p["seq"]] = (p.get("stream") == "err", p["text"])
        elif kind == "waiting" and who == self.program:
            # Discussion: a hop its receiver has not acknowledged is never given up (the
            # receiver may be running it): the program waits, and says so once, until the
            # node answers or an operator declares it gone (`swarm node gone NODE`)
            if self.waiting is None and self.echo:
                when = time.strftime("%H:%M:%S", time.localtime(p["since"]))
                why = p.get("reason") or (f"it has not acknowledged the program since {when} "
                                          f"(if {p['node']} is gone for good: swarm node "
                                          f"gone {p['node']})")
                print(f"[swarm] {self.program} is waiting for {p['node']}: {why}",
                      file=sys.stderr, flush=True)
            self.waiting = (p["node"], p["since"], p.get("reason", ""))
        elif kind == "trace":
            self.hops.append(p)
        elif kind == "result" and who == self.program:
            self.result = p
        while self.next_seq.setdefault(who, 0) in chunks:  # print in program order
            err, text = chunks.pop(self.next_seq[who])
            (self.errors if err else self.printed).append(text)
            self.shown.append((err, text))
            self.next_seq[who] += 1
        self.flush_echo()

    def unaccepted(self, waited: float) -> str:
        """What to say of a submission its node has not accepted in `waited` seconds."""
        return (f"{self.node} has not accepted program {self.program} in {waited:g} s ("
                f"{self.node} down, or unreachable from here?): it is not known to have "
                f"started; it is sent again while this client waits for it, and starts when "
                f"{self.node} takes it (close() gives it up)")

    def say_unaccepted(self) -> None:
        """Say once on stderr (when echoing) that the node has not accepted the submission
        in NOT_ACCEPTED_SECONDS: the program waits for it, as a hop waits for its receiver."""
        if self.echo and not self.confirmed and not self.told_unaccepted and \
                time.monotonic() - self.sent > NOT_ACCEPTED_SECONDS:
            self.told_unaccepted = True
            print(f"[swarm] {self.program} waits for {self.node}, which has not accepted it "
                  f"in {NOT_ACCEPTED_SECONDS:g} s (down, or unreachable from here?): it is "
                  f"sent again until {self.node} takes it, and starts then", file=sys.stderr,
                  flush=True)

    def flush_echo(self) -> None:
        """Write what came since the last call: stdout's text to stdout, stderr's to stderr,
        in program order (each flushed before the other is written)."""
        # Discussion: each piece counts as echoed before it is written, so that Ctrl-C
        # arriving while it is written (swarm run then waits for the program's end, and
        # echoes what follows) never writes it twice
        while self.echo and self.echoed < len(self.shown):
            err, text = self.shown[self.echoed]
            self.echoed += 1
            out = sys.stderr if err else sys.stdout
            out.write(text)
            out.flush()

    @property
    def done(self) -> bool:
        return self.result is not None and self.next_seq[self.program] >= self.result["seq"]

    def outcome(self) -> RunOutcome:
        r = self.result
        value = r.get("value")
        if value is not None:
            try:
                value = decode.value(value)
            except Exception as e:  # (a class the client cannot import, say)
                value = f"<a value the client cannot unpickle: {type(e).__name__}: {e}>"
        return RunOutcome("".join(self.printed), value, r["error"], r["traceback"],
                          r["route"], sorted(self.hops, key=lambda h: h["at"]),
                          {k: r[k] for k in ("exit", "node", "note", "asked") if k in r},
                          "".join(self.errors))
