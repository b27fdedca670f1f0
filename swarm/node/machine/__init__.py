"""A node's logic as a pure state machine: NodeState.handle(event) -> [instruction].

No sockets, no SQLite, no greenlets, no clock here (tests/test_machine.py walks the imports):
the shell (swarm/node/shell.py) runs it in a node process, the simulator (tests/sim/) runs
many of them in one process under one seed. docs/architecture.md has the tables of events
and instructions.
"""

from swarm.node.machine.data import RefData
from swarm.node.machine.events import (
    AckReceived,
    AnswersUsed,
    Asked,
    Booted,
    CancelRequested,
    ClientRequest,
    CollectRequested,
    CommitFailed,
    Committed,
    FailoverReceived,
    FenceRequested,
    FetchAnswered,
    FetchRequested,
    GcFlushed,
    GcRequested,
    HopReceived,
    HopSent,
    HopsRequested,
    InputReceived,
    InputWanted,
    MemberJoined,
    MirrorAnswered,
    ProgramFinished,
    ProgramPrinted,
    ProgramsRequested,
    RefusedReceived,
    Served,
    SnapshotSent,
    SourceReceived,
    SourceRequested,
    SourceWanted,
    Stopping,
    SubmitReceived,
    Tick,
    Unasked,
)
from swarm.node.machine.instructions import (
    AnswerCancel,
    AnswerPrograms,
    AnswerStats,
    AnswerStatus,
    Cancel,
    Log,
    Persist,
    Relocate,
    Reply,
    Resume,
    Send,
    SendKept,
    SendSnapshot,
    Serve,
    Start,
    Stop,
    TakeOver,
    Wake,
)
from swarm.node.machine.ledger import ACK_DELAY, WRITE_DELAY, forget_after
from swarm.node.machine.questions import NO_ANSWER, NODE_GONE
from swarm.node.machine.state import NodeState

__all__ = [
    "AckReceived", "AnswersUsed", "Asked", "Booted", "forget_after", "CancelRequested", "AnswerCancel", "Cancel", "ClientRequest", "CollectRequested", "Committed",
    "CommitFailed", "FenceRequested", "MemberJoined", "ProgramsRequested", "RefusedReceived", "AnswerPrograms", "FetchAnswered", "FetchRequested", "GcFlushed", "GcRequested", "HopReceived", "HopSent", "HopsRequested", "InputReceived", "InputWanted", "MirrorAnswered",
    "ProgramFinished", "ProgramPrinted", "Served", "SourceReceived", "SourceRequested",
    "SourceWanted", "SnapshotSent", "Stopping", "SubmitReceived", "Tick", "Unasked",
    "AnswerStats", "AnswerStatus", "Log", "Persist", "Relocate", "Reply", "Resume", "Send",
    "SendKept", "SendSnapshot", "Serve", "Start", "Stop", "TakeOver", "Wake",
    "FailoverReceived",
    "NO_ANSWER", "NODE_GONE", "NodeState", "RefData", "ACK_DELAY", "WRITE_DELAY",
]
