"""What clients ask a node, besides submissions (state.py): their programs' kept output
(`collect?`), hello/ping, status?, stats?, stop, leave (swarm node remove: the node takes no
new program from then on - state.py refuses hops and submissions - and says which programs
it holds), where programs are (`programs?`), and a cancel."""

from __future__ import annotations

from swarm.node.machine import events as ev
from swarm.node.machine import status
from swarm.node.machine.instructions import (
    AnswerCancel,
    AnswerPrograms,
    AnswerStats,
    AnswerStatus,
    Cancel,
    Log,
    Reply,
    Send,
    SendKept,
    Stop,
)

HANDED_LATELY_SECONDS = 10.0  # a cancel answers `forwarded` for a program handed on since


def collect(state, e: ev.CollectRequested) -> None:
    state._send_counted(SendKept(e.client, e.programs))


def request(state, e: ev.ClientRequest) -> None:
    kind = e.kind
    if kind in ("hello", "ping"):
        state.out.append(Reply(e.client, "pong", {"node": state.name}))
    elif kind == "status?":
        state.out.append(AnswerStatus(e.client, status.fields(state)))
    elif kind == "stats?":
        state.out.append(AnswerStats(e.client))
    elif kind == "stop":
        state.out.append(Log("warning", f"stopping: asked by {e.client}"))
        state.out.append(Stop())
    elif kind in ("leave", "stay"):  # (swarm node remove: until it stops, no new program)
        if kind == "stay":
            state.leaving = False
        elif not state.leaving:
            state.leaving = True
            state.out.append(Log("warning", f"leaving the cluster (asked by {e.client}): "
                                           f"new programs and hops are refused"))
        here = [p for p, w in state.present.items() if w[0] == "here"]
        state.out.append(Reply(e.client, "leaving", {"node": state.name, "here": here[:100],
                                                     "count": len(here)}))


def programs(state, e: ev.ProgramsRequested) -> None:
    """Rows of the programs asked for (None: all) that are here or were lately."""
    state._send_counted(AnswerPrograms(e.client, e.programs, state.present.rows(e.programs),
                                       state.booted_at))


def cancel(state, e: ev.CancelRequested) -> None:
    """Cancel a program (and its tasks): written, so that it stays cancelled - a hop of it
    that arrives later, or runs again after a restart, ends at once (state._run); stopped if
    it is here. Every node is asked: the one it is on answers `cancelled`."""
    program = e.program.split("/", 1)[0]
    first = program not in state.cancelled
    if first:
        state.cancelled.add(program)
        state.ledger.next.cancelled.append(program)
    mine = [(p, w) for p, w in state.present.items()
            if p == program or p.startswith(program + "/")]
    if any(w[0] == "here" for _, w in mine):
        state.out.append(Cancel(program))
    if first:  # passed on to where it went (that node passes it on in turn)
        for node in {w[2] for _, w in mine if w[0] != "here" and w[2] not in ("", state.name)
                     and not state.lost(w[2])}:  # ("": handed on to a node unknown here)
            state.out.append(Send(node, "cancel", {"program": program}))
    if e.client not in state.names:  # (a node passing it on wants no answer)
        # Discussion: a program hopping from here to n2 may have reached n2 after n2 read
        # the cancel, and been acknowledged here before this node read it: "unknown" from
        # both, and `swarm run` gave up at once (UnknownProgram) while the program, resumed
        # on n2 with the interrupt, ran its `finally` unseen. Handed lately, it is passed on.
        lately = state.now - HANDED_LATELY_SECONDS
        where = "cancelled" if any(w[0] == "here" for _, w in mine) else \
            "forwarded" if any(w[0] in ("sent", "waiting") or (
                w[0] == "handed" and w[2] and w[1] >= lately) for _, w in mine) else "unknown"
        if first:  # (told once the cancel is on disk: a crash before would undo it, and
            # the program run again from its last hop here, after its client was told
            # `cancelled` - and asked no more: tests/test_sim_cancels.py found it)
            state._send(AnswerCancel(e.client, program, where), hold=True)
        else:
            state._send_counted(AnswerCancel(e.client, program, where))
    state._write_now()


def carried(state, program: str) -> None:
    """A hop that carries its sender's cancel (resend.py): the program is cancelled here
    before it runs, written with the hop's take."""
    program = program.split("/", 1)[0]
    if program not in state.cancelled:
        state.cancelled.add(program)
        state.ledger.next.cancelled.append(program)


def handlers(state) -> dict:
    """The events of this module, for NodeState's table."""
    return {ev.CollectRequested: lambda e: collect(state, e),
            ev.ClientRequest: lambda e: request(state, e),
            ev.ProgramsRequested: lambda e: programs(state, e),
            ev.CancelRequested: lambda e: cancel(state, e)}
