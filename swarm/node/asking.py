"""Questions a node's programs ask other nodes: a Ref operation done where the Ref lives (the
fetch policy), a value adopted (relocation), a collection's steps, a program's source.

The program's greenlet parks until the answer comes (the machine sends the question, and
wakes the program with the answer or, after the cluster's hop_timeout, with NO_ANSWER). A
program that stops waiting - cancelled: KeyboardInterrupt where it is parked (kernel.cancel)
- tells the machine (Unasked), which no longer asks (machine/questions.py).
"""

from __future__ import annotations

import hashlib
import time

from swarm.errors import NodeGone
from swarm.node.machine import NO_ANSWER, NODE_GONE, Asked, SourceWanted, Unasked
from swarm.node.machine.questions import READS
from swarm.wire import decode, layout

ASKED_KEPT = 32  # questions whose node a program's result names (Program.asked_at)


def question_id(node, action: str) -> str | None:
    """The number of a question that changes something, asked by a program (answers.py):
    from the hop the program resumed from and a count of its questions - a count of its own,
    so that the ids of its hops and futures (Program.next_id) are what they are whatever it
    asks. None for a read, a collection's steps (a chain numbers its own: collchain.py) or a
    question no program asks."""
    prog = node.kernel.current_context()
    if prog is None or prog.hop_id is None or action in READS or action.startswith("coll"):
        return None
    return prog.next_question_id()


def ask(node, dest: str, action: str, ref_id: str | None, arg=None,
        blob: bytes | None = None, question: str | None = None,
        op_id: str | None = None) -> tuple[dict, object]:
    """Ask `dest` to do `action` with `arg` (or with `blob`: arg pickled already) and park
    until it answers: (reply, value). A read waits for as long as it takes (it is asked again
    until answered: machine/questions.py); so does a question with an id (`question`, or one
    question_id gives): the node asked does it once (answers.py). Anything else unanswered
    within the cluster's hop_timeout raises TimeoutError in the program, saying it may have
    been done. `op_id`: the question's whole id, made by the caller (a collection's chain:
    collchain.py)."""
    if dest not in node.config.nodes:
        raise ValueError(f"{action} {ref_id or ''}: node {dest!r} is not a node of this cluster "
                         f"as {node.name} knows it (a node added since {node.name} started "
                         f"that it was not told of? `swarm node add {dest}` again tells it)")
    key = node.machine.next_key("fetch")
    blob = node.encode_value(arg) if blob is None else blob
    prog = node.kernel.current_context()
    if prog is not None and len(prog.asked_at) < ASKED_KEPT:
        prog.asked_at.append(dest)  # (where its data was: swarm.web.Starts)
    event = Asked(key, dest, action, ref_id, blob, time.time())
    question = question or question_id(node, action)
    if op_id is not None:
        event.op, event.segment = op_id, node.kernel.current_context().hop_id
    elif question is not None:  # (what is asked is part of its id: answers.py)
        event.op = f"{question}.{asked_digest(action, ref_id, blob)}"
        event.segment = node.kernel.current_context().hop_id
    reply = wait(node, key, event)
    if reply == NODE_GONE:
        raise NodeGone(f"node {dest} was declared gone: {action} {ref_id or ''} has no "
                       f"answer")
    if reply == NO_ANSWER:
        raise TimeoutError(f"node {dest} did not answer ({action} {ref_id or ''}) within "
                           f"{node.config.hop_timeout:g} s (down, paused or cut off?): it may "
                           f"or may not have done it - look before doing it again")
    value = decode.value(reply["value"]) if reply.get("value") is not None else None
    return reply, value


def wait(node, key: str, event):
    """Emit the question `event` and park on `key` until its answer; a program that stops
    waiting - an exception thrown in where it is parked: a cancel's KeyboardInterrupt - has
    its question dropped (Unasked) before the exception goes on.

    Discussion: only the asker knows that nobody waits any more; without this, a question
    that is asked again until answered (a read, or one with an id) was sent every second
    for ever to a node that never answers. Dropping it does not make it undone: a copy sent
    before may still be done by the node asked - a cancelled program's last question may
    or may not have been done (docs/programs.md, "A cancelled program's last
    question")."""
    try:
        return node.kernel.wait_after(key, node.emit, event)
    except BaseException:
        if node.kernel.running:  # (not a node stopping: its greenlets end with it)
            node.emit(Unasked(key))
        raise


def asked_digest(action: str, ref_id: str | None, blob) -> str:
    """What a question asks - its action, Ref and argument - in 16 hex digits."""
    h = hashlib.blake2b(f"{action}\0{ref_id}\0".encode(), digest_size=8)
    for part in layout.parts_of(blob):
        h.update(part)
    return h.hexdigest()


def tell(node, dest: str, action: str, arg) -> None:
    """Send `dest` something that wants no answer."""
    node.emit(Asked(None, dest, action, None, node.encode_value(arg), time.time()))


class MissingSource(LookupError):
    """A value or continuation being decoded here names a compiled module whose source this
    node has never seen (`digest`: its content hash)."""

    def __init__(self, name: str, digest: str, node: str) -> None:
        super().__init__(f"source of module {name} ({digest[:12]}) is not on {node}")
        self.digest = digest


def fetch_sources(node, hashes: list[str], peer: str | None) -> None:
    """Ask the node a hop came from for program sources this node has never seen (by
    content hash); the program waits for them (the machine asks once however many programs
    wait for one source), and they are kept in the store."""
    sources = node.machine.sources
    for digest in hashes:
        if digest in sources:
            continue
        if peer is None or peer not in node.config.nodes:
            raise LookupError(f"the source {digest[:12]} is not on {node.name}")
        key = node.machine.next_key("source-wait")
        source = wait(node, key, SourceWanted(key, peer, digest, time.time()))
        if source is None and node.machine.lost(node.machine.route(peer)):
            raise NodeGone(f"{peer} was declared gone, and with it the module source or "
                           f"large value {digest[:12]} this program's hop named by hash")
        if source is None:
            raise LookupError(f"{peer} has no module source or large value {digest[:12]} "
                              "either")
