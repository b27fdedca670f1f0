"""A collection's steps that change something, asked of other nodes: each ask carries an id,
is asked again until answered, and is done once (machine/answers.py) - the chain.

A program's operation that changes a collection (CHANGES: a Dict's set, update, increment,
pop; a Set's add, discard, remove; a List's append and set) and runs every step by asking
(`fetch_all`: the fetch policy, an implicit call such as `d[k] = v`, code that cannot move)
gets an id when it starts (`start`): the program's next question number
(Program.next_question_id) and a digest of what the operation asks - kind, name, action,
key, value, increment - never of where its parts are. Its asks are numbered: ask `n` has id
`<op id>.<n>`.

What makes the id name the same step when the program runs again (its node died before
the segment's end was on disk, docs/nodes.md "A segment cut mid-way"): the route. An
operation asked in the old way goes where the asking node's memo points (a List's tail
chunk, a key's element), and runs the steps whose Refs are on the asking node itself; a
restart forgets the memo, and those local steps read what other programs changed
meanwhile (a List's tail moved on): the same operation run again could go to another
chunk and append there again. A chain does neither:

- ask 0 goes to the node of the collection's root as the asking node's store says (its
  home, or the forward it keeps), never where the memo points, and no step runs on the
  asking node first - a root on the asking node itself is asked all the same (the shell
  hands that question to its own machine: shell._send);
- ask n+1 goes where the answer to ask n says (`op.dest`: the asked node ran the steps
  whose Refs it holds, and says where the next one is).

Every answer is kept by the node that gave it until the segment's end is on disk, and a
copy asked again is answered as the first was: a program that runs again gets ask 0's
answer, so asks ask 1 of the same node, and so on - the same route, the same steps, each
done once; the last answer carries the result (a List index, a popped value). An
operation whose argument differs when run again (it read the clock) has another digest:
another id, another operation, done.

What a chain does not cover (docs/nodes.md): a step the program must run itself (an
`update` with the program's own function moves the program there); an operation that
started by moving and was switched to asking half-way (a capture that failed, `fetch_once`)
chains from where it is, so a run again after its node died may take another route.

Discussion: why not key the answer by the step instead of the ask (`append` on chunk c)?
The step a run again reaches depends on what it reads: another program's append may have
filled chunk c meanwhile, and the run again appends to chunk c+1, on another node, which
has never seen the id. Only a route fixed by kept answers reaches the same node again.
"""

from __future__ import annotations

import hashlib

from swarm.continuation import codec
from swarm.node.colldata import CollOp

#: actions that change a collection: asked in a chain (with ids) when every step is asked
CHANGES = {"dict": frozenset({"set", "update", "increment", "pop"}),
           "set": frozenset({"add", "discard", "remove"}),
           "list": frozenset({"append", "set"})}


def changes(op: CollOp) -> bool:
    return op.action in CHANGES.get(op.kind, ())


def digest(op: CollOp) -> str:
    """What the operation asks, in 16 hex digits: never where its parts are (the memo)."""
    h = hashlib.blake2b(f"coll\0{op.kind}\0{op.name}\0{op.param}\0{op.action}\0".encode(),
                        digest_size=8)
    h.update(op.kb if op.kb is not None else repr(op.key).encode())
    h.update(b"\0" + (op.blob or b""))
    if op.fn is not None:  # (increment's Add: a plain object; a program's own fn never rides)
        h.update(b"\0" + codec.dumps(op.fn))
    return h.hexdigest()


def start(op: CollOp, question: str) -> None:
    """The operation becomes a chain: its id, from the program's question number."""
    op.qid, op.asks = f"{question}.{digest(op)}", 0


def next_ask(op: CollOp, located) -> tuple[str, str]:
    """(the node to ask, the ask's id) for the chain's next ask. Ask n+1 goes where ask n's
    answer said (`dest`), also when that is the node asked again; ask 0, and an ask after a
    step the program ran itself, where `located()` says (for an operation at its start: the
    root's node as the asking node's store says - `root_node`, not the memo)."""
    n = op.asks
    dest = op.dest if n > 0 and op.dest is not None else located()
    op.asks, op.dest = n + 1, None
    return dest, f"{op.qid}.{n}"


def stored_location(node, op: CollOp) -> str:
    """Where the chain's next ask goes when no answer says: the node of the op's next Ref
    (at its start: the root) as this node's store says - it holds the Ref, or a forward for
    it - or else the node its id names: what a restart does not change (the memo does)."""
    ref_id = op.root if op.stage == "start" else op.target
    if ref_id is None:  # (a step that runs anywhere: the asking node's own answers)
        return node.name
    return node.machine.locate(ref_id, ref_id.split(".", 1)[0])


def busy(node, ref_id: str) -> bool:
    """Would `locate` wait for `ref_id` here (it is being relocated, or committed by an
    atomic block)?

    Discussion: a chain's ask is answered once because its answer is kept in the write that
    holds what it did (answers.served). A step that waits lets the node write what the
    steps before it did, without the answer: a crash then, and the ask asked again does
    them again. So a chain's ask that has run a step stops before a wait, and says to ask
    this node again (the chain's next id)."""
    data = node.machine.data
    return node.machine.locate(ref_id, node.name) == node.name and (
        ref_id in data.moving or data.txns.locked(ref_id))
