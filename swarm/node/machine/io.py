"""The machine's part of programs' standard input (swarm/node/programio.py has the rest).

A program that reads stdin and has nothing left asks its client (`input?` {program, n}: its
n-th question) and parks; the client answers with what its own stdin gave (`input` {program,
n, text, eof}), and the program is woken with (text, eof). An answer is taken only for the
question the program waits on now (a late or repeated one is dropped), so no text is taken
twice. The question goes out like the program's output, after it (the prompt first).
"""

from __future__ import annotations

from swarm.node.machine import events as ev
from swarm.node.machine.instructions import Reply, Wake


def input_wanted(state, e: ev.InputWanted) -> None:
    state.input_waits[e.program] = (e.n, e.key)
    state._send(Reply(e.client, "input?", {"program": e.program, "n": e.n}))


def input_received(state, e: ev.InputReceived) -> None:
    waiting = state.input_waits.get(e.program)
    if waiting is None or waiting[0] != e.n:
        return  # not waiting for this answer (late, repeated, or for another node)
    del state.input_waits[e.program]
    state.out.append(Wake(waiting[1], (e.text, e.eof)))


def handlers(state) -> dict:
    """The events of this module, for NodeState's table."""
    return {ev.InputWanted: lambda e: input_wanted(state, e),
            ev.InputReceived: lambda e: input_received(state, e)}
