"""What happens to a node: the events its state machine (state.py) takes.

Each event is a small record. The shell (swarm/node/shell.py) makes them from messages that
passed the gate and were decoded (swarm/wire/decode.py), from the kernel (a program that was
captured, printed, finished, or asks a question) and from the clock (Tick). Each carries the
ids of what caused it - a program id, a hop id, a question's key - and the machine logs by
them, so one program's story can be read across nodes.

Time enters only here: `now` (seconds, the shell's monotonic clock) on the events that need
it. The machine never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ---- from the store, once ------------------------------------------------------------------


@dataclass(slots=True)
class Booted:
    """The node starts: what its store holds that the protocol must go on with."""
    now: float
    inbox: list  # [(hop_id, program, meta bytes, data)] hops taken and not finished here
    outbox: list  # [(hop_id, node, meta bytes, data, sent_at)] hops sent and not acked
    moves: list = field(default_factory=list)  # [(ref id, node)] relocations under way
    done: list = field(default_factory=list)  # hop ids taken here (dedupe of resends)
    fenced: list = field(default_factory=list)  # nodes declared gone
    cancelled: list = field(default_factory=list)  # programs cancelled
    deaths: dict = field(default_factory=dict)  # program -> node deaths while it ran
    died_running: str | None = None  # the program running when the node last died
    forgetting: list = field(default_factory=list)  # [(hop id, when)]: off `done` then
    partial: dict = field(default_factory=dict)  # inbox hop id -> Refs its segment wrote
    # in a write before the segment's end (ledger.py: a segment cut mid-way)
    answers: list = field(default_factory=list)  # questions answered here, by id: [(op,
    # node, reply bytes, value, at)] (answers.py)
    mirror_seq: int = 0  # the store's last record (mirror.py)
    mirror_down: bool = False  # the mirror did not answer before the start (restore.py)
    store_id: int = 0  # the store's id (its copies are of it: mirror.py)
    heirs: dict = field(default_factory=dict)  # node -> (heir, routed): fences.py


# ---- from the network (after the gate and decode.py) --------------------------------------


@dataclass(slots=True)
class SubmitReceived:
    client: str
    p: dict  # the checked `submit` payload


@dataclass(slots=True)
class HopReceived:
    sender: str
    meta: dict
    meta_bytes: bytes
    extra: dict  # acks, again, load
    data: bytes
    now: float


@dataclass(slots=True)
class AckReceived:
    sender: str
    hop_ids: list
    forget: list = field(default_factory=list)  # hops of the sender's we may forget
    load: int = -1  # the sender's runnable programs (-1: not said)


@dataclass(slots=True)
class RefusedReceived:
    """A peer refused hops of ours without taking them (its store cannot write now): they
    stay in the outbox and are sent again; their programs wait, and say why."""
    sender: str
    hop_ids: list
    reason: str


@dataclass(slots=True)
class FetchRequested:
    """A peer asks this node to do something with a Ref (or a collection step)."""
    sender: str
    key: str | None
    action: str
    ref: str | None
    arg: bytes  # pickled; decoded by whoever serves it
    op: str | None = None  # the question's id, if it changes something (answers.py)


@dataclass(slots=True)
class AnswersUsed:
    """A peer has no more use for our answers to these questions of its (answers.py)."""
    sender: str
    ops: list


@dataclass(slots=True)
class FetchAnswered:
    sender: str
    key: str
    reply: dict  # moved_to, failed, error; "value": pickled bytes when there is one


@dataclass(slots=True)
class SourceRequested:
    sender: str
    key: str
    digest: str


@dataclass(slots=True)
class SourceReceived:
    sender: str
    key: str
    source: list | None


@dataclass(slots=True)
class CollectRequested:
    client: str
    programs: list


@dataclass(slots=True)
class MemberJoined:
    """An operator adds `node` to the running cluster (`swarm node add`): it is a member
    from now on, last in cluster order (the shell has told its links and gate)."""
    client: str
    node: str


@dataclass(slots=True)
class FenceRequested:
    """An operator declares `node` gone for good (`swarm node gone`), in two phases: 1, this
    node writes the fence and refuses the node from then on; 2 (once every live node has
    done 1), the programs waiting for the node fail. With an `heir` (`swarm node remove`:
    fences.py), 1 holds what is meant for the node instead, and 2 sends it to the heir."""
    client: str
    node: str
    phase: int
    heir: str | None = None


@dataclass(slots=True)
class GcRequested:
    """A step of a garbage collection cycle (`swarm gc`: gc.py): mark, flush, end or sweep.
    `ids`: the Refs to delete (sweep); `memory`: the collectable Refs the node's programs
    hold in memory, found by the shell as it took the message (mark); `nodes`: the live
    nodes of the cycle (flush, end)."""
    client: str
    cycle: str
    phase: str
    ids: list = field(default_factory=list)
    memory: list = field(default_factory=list)
    nodes: list = field(default_factory=list)


@dataclass(slots=True)
class GcFlushed:
    """A peer's `gc-flush`: everything it sent here before has arrived (gc.py)."""
    sender: str
    cycle: str


@dataclass(slots=True)
class CancelRequested:
    """A client cancels a program (and its tasks) wherever it is: `swarm cancel`, Ctrl-C;
    or a node passes a cancel on to where the program went (`client` is then that node's
    name, and it gets no answer)."""
    client: str
    program: str


@dataclass(slots=True)
class ProgramsRequested:
    """Where are these programs (None: every program here)? (swarm ps, and a client
    looking for a program after a fence)"""
    client: str
    programs: list | None


@dataclass(slots=True)
class InputReceived:
    """A client's answer to `input?`: the text its stdin gave (eof: it ended)."""
    client: str
    program: str
    n: int
    text: str
    eof: bool


@dataclass(slots=True)
class HopsRequested:
    """The hops this node took lately, those numbered above `after` (history.py; the
    dashboard's timeline)."""
    client: str
    after: int


@dataclass(slots=True)
class ClientRequest:
    """hello, ping, status?, stats?, stop: answered from the node's state."""
    client: str
    kind: str


# ---- from programs (through the kernel and traps) ----------------------------------------


@dataclass(slots=True)
class HopSent:
    """A program moves on (captured; or a task spawned): send `data` to `dest`."""
    dest: str
    meta: dict
    data: bytes
    finished: str | None  # the hop whose program this continues (None: a spawned task)
    again: bool  # it may have been sent before (see Program.again)
    load: int = 0  # the sender's runnable programs, for the receiver's least_loaded()
    values: dict | None = None  # large values the hop names by hash, new to this node's
    # sources: kept (and written before the hop leaves), for the receiver to ask for


@dataclass(slots=True)
class ProgramPrinted:
    program: str
    client: str
    seq: int
    text: str
    stream: str = "out"  # "out" or "err" (stdout, stderr: swarm/node/programio.py)


@dataclass(slots=True)
class InputWanted:
    """A program reads its stdin and has nothing left: its client is asked (`input?`, the
    program's n-th question), and the program parks on `key` until the answer."""
    program: str
    client: str
    n: int
    key: str


@dataclass(slots=True)
class ProgramFinished:
    """A program ended here: `result` is the client's result payload (None for a task,
    whose result went to its future)."""
    program: str
    client: str
    hop_id: str | None
    result: dict | None
    error: str | None = None


@dataclass(slots=True)
class Asked:
    """A program (or a service greenlet) asks `node` something and parks on `key` (None:
    it wants no answer)."""
    key: str | None
    node: str
    action: str
    ref: str | None
    arg: bytes
    now: float
    op: str | None = None  # an id for a question that changes something, the same when
    segment: str | None = None  # the program's segment (`segment`) runs again (answers.py)


@dataclass(slots=True)
class Unasked:
    """A program parked on a question (Asked, SourceWanted) stopped waiting for its answer
    - cancelled: the question is no longer asked (questions.py)."""
    key: str


@dataclass(slots=True)
class SourceWanted:
    """A program needs a source this node lacks; it parks on `key`."""
    key: str
    node: str
    digest: str
    now: float


@dataclass(slots=True)
class Served:
    """A FetchRequested was served here: the answer goes back (key None: nobody waits)."""
    sender: str
    key: str | None
    reply: dict
    value: bytes | None = None
    ref: str | None = None  # the Ref whose stored value the answer carries (a read)
    op: str | None = None  # the question's id (FetchRequested.op)


# ---- from the shell --------------------------------------------------------------------------


@dataclass(slots=True)
class Tick:
    """The loop went round: time for writes, acks, resends and timeouts that are due."""
    now: float
    load: int = -1  # the node's runnable programs, told to peers with acks (-1: unknown)
    heard: dict | None = None  # peer -> when a message from it last came (failover.py)


@dataclass(slots=True)
class Committed:
    """The last Persist is on disk; with a mirror, its record (mirror.py): the number and
    the `mirror` message ((fields, blobs): swarm/node/records.py)."""
    now: float
    seq: int = 0
    record: tuple | None = None


@dataclass(slots=True)
class MirrorAnswered:
    """The mirror's `mirrored`: its copy holds the records up to `have` (gap: it refused
    the record or probe `seq`; mirror.py)."""
    sender: str
    seq: int
    have: int
    gap: bool
    probe: bool = False  # the answer to a probe
    behind: bool = False  # the copy is of this store and further on (mirror.py)


@dataclass(slots=True)
class FailoverReceived:
    """A node's `failover` message: {step: out? | out | alone? | alone | whole, node, ok?,
    why?} (machine/failover.py)."""
    sender: str
    fields: dict


@dataclass(slots=True)
class SnapshotSent:
    """The shell sent the mirror a snapshot of `nbytes` (mirror.py: how long it may take)."""
    node: str
    nbytes: int


@dataclass(slots=True)
class CommitFailed:
    """The last Persist could not be written (disk full, I/O error, a value too large)."""
    error: str
    now: float


@dataclass(slots=True)
class Stopping:
    """The node stops cleanly: write what is pending, send the acks owed."""
    now: float
