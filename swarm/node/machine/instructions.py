"""What a node's state machine asks its shell to do: the instructions NodeState.handle
returns. The shell (swarm/node/shell.py) carries each out; the simulator (tests/sim/) carries
them out on simulated sockets, disks and programs.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the kinds of Send a node may address to itself: the shell hands them back to its machine
#: (shell._loop_back, inbound.from_self) and drops any other - a hop or an ack to itself
#: is taken by the machine before (fences.reroute); the simulator's network checks it
TO_SELF = ("fetch", "fetched", "answered")


@dataclass(slots=True)
class Send:
    """A message to a peer: control fields (kinds.py) and blobs."""
    node: str
    kind: str
    fields: dict
    blobs: tuple = ()
    resend: bool = False  # from the outbox: dropped if the peer's queue is full


@dataclass(slots=True)
class Reply:
    """A message to a client (`body`: the fields encoded already, as kept)."""
    client: str
    kind: str
    fields: dict
    body: bytes | None = None


@dataclass(slots=True)
class Persist:
    """Write one transaction (see HopLedger.write); answer with Committed or CommitFailed."""
    txn: object


@dataclass(slots=True)
class SendSnapshot:
    """Send the mirror the whole store as it is now (machine/mirror.py, swarm/node/mirrors.py)."""
    node: str


@dataclass(slots=True)
class Start:
    """Run a submitted program from its entry module."""
    meta: dict
    hop_id: str
    again: bool


@dataclass(slots=True)
class Resume:
    """Resume a program that hopped here (or start a task: meta["start"]); `interrupt`: it
    was cancelled, KeyboardInterrupt is raised where it waits (unless it had it already:
    meta["interrupted"])."""
    meta: dict
    hop_id: str
    data: bytes
    again: bool
    interrupt: bool = False


@dataclass(slots=True)
class Serve:
    """Serve a peer's FetchRequested in a greenlet of its own (it may wait)."""
    sender: str
    key: str | None
    action: str
    ref: str | None
    arg: bytes
    op: str | None = None  # the question's id (answers.py): Served carries it back


@dataclass(slots=True)
class Relocate:
    """Go on with a relocation found in the store after a restart."""
    ref: str
    node: str


@dataclass(slots=True)
class Cancel:
    """Stop the program (and its tasks) running or parked here: KeyboardInterrupt in it."""
    program: str


@dataclass(slots=True)
class AnswerCancel:
    """Answer cancel: `state` cancelled (it was here), or else finished if the store kept
    its result, else unknown (the shell knows the store)."""
    client: str
    program: str
    state: str


@dataclass(slots=True)
class Wake:
    """Make the program parked on `key` ready again, with `value`."""
    key: str
    value: object = None


@dataclass(slots=True)
class SendKept:
    """Send a client again what the store kept for these programs (collect?)."""
    client: str
    programs: list


@dataclass(slots=True)
class AnswerStatus:
    """Answer status? (the machine's fields, and the shell's own: sockets, refusals)."""
    client: str
    fields: dict


@dataclass(slots=True)
class AnswerPrograms:
    """Answer programs? with what the machine knows: a row per program ({program, state:
    here|sent|waiting|handed, since, at, to, client, task}); the shell makes `here` running
    or parked (its kernel knows) and lists the asked ones whose result its store kept
    (finished)."""
    client: str
    asked: list | None
    rows: list
    booted: float = 0.0  # when this node started (a client's search: swarm/fencing.py)


@dataclass(slots=True)
class AnswerStats:
    """Answer stats? (the placer's report)."""
    client: str


@dataclass(slots=True)
class Stop:
    pass


@dataclass(slots=True)
class TakeOver:
    """Remove `node` and take its store, as `swarm node remove NODE --force` does: it was
    silent for `failover` seconds and a majority agrees (machine/failover.py); `heir`:
    this node (the command refuses if the cluster file names another)."""
    node: str
    heir: str


@dataclass(slots=True)
class Log:
    level: str  # "warning", "info", ...
    text: str
