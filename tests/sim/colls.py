"""A collection's steps asked of other nodes, in the simulator: List appends and Dict
updates asked as chains (swarm/node/collchain.py), their askers and the nodes asked
crashing, messages lost, duplicated and delayed, nodes declared gone.

The nodes asked run the real steps (collserve.serve, each node with a memo of its own that a
crash forgets) on the machine's own RefData; the asking side is what collserve.drive does
for a chain: ask 0 to the root's node as the store says, ask n+1 where ask n's answer said,
each under the chain's id. A program makes 1-4 operations, each an append of a tag of its
own to one of two Lists (4 values per chunk, so tails move on often) or an update of a key
of a Dict that appends its tag to the key's value (a plain function: the node asked runs
it); between operations it may hop to another node or be switched out. When its node dies
it runs again from its last hop and asks again. What each run must keep:

- every tag is in its List (or its key's value) at most once;
- a program told ok has each of its tags there exactly once (unless a node holding them was
  declared gone), at the index its append returned.
"""

from __future__ import annotations

import random
import types

from swarm.continuation import codec
from swarm.node import colldata, collserve
from swarm.node.collchain import next_ask, start, stored_location
from swarm.node.colldata import CollOp, Memo, key_bytes
from swarm.node.machine import NO_ANSWER, NODE_GONE
from swarm.node.machine import events as ev
from tests.sim.clients import SimClient
from tests.sim.world import World

LISTS = ("l1", "l2")
DICT = "d"
CHUNK = 4
SHARDS = 2
KEYS = ("a", "b", "c")


class Tag:
    """The update's function: the key's value (a list of tags) with one more tag."""

    __slots__ = ("tag",)

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __call__(self, old):
        return list(old) + [self.tag]

    def __reduce__(self):
        return (Tag, (self.tag,))


class Steps:
    """A program of appends and updates, each asked as a chain."""

    def __init__(self, pid: str, ops: list, hops: list, pauses: list) -> None:
        self.pid = pid
        self.ops = ops  # [("append", list) | ("update", key)]
        self.hops = hops  # [node or None]: after op i, hop there (None: stay)
        self.pauses = pauses  # [bool]: switched out after op i's answer
        self.results: dict[int, object] = {}  # op -> what it returned (its last run's)

    def tag(self, i: int) -> str:
        return f"{self.pid}.{i}"

    def run(self, node, prog, state) -> None:
        self._next(node, prog, state or 0)

    def _next(self, node, prog, i: int) -> None:
        if i == len(self.ops):
            node.finish(prog)
            return
        what, name = self.ops[i]
        if what == "append":
            op = CollOp("list", name, CHUNK, "append", None, codec.dumps(self.tag(i)))
        else:
            op = CollOp("dict", DICT, SHARDS, "update", name, codec.dumps([]))
            op.kb, op.fn = key_bytes(name), Tag(self.tag(i))
        op.names(node.world.names)
        op.fetch_all = True
        start(op, prog.next_question_id())
        self._ask(node, prog, i, op)

    def _ask(self, node, prog, i: int, op: CollOp) -> None:
        dest, question = next_ask(op, lambda: stored_location(_Node(node), op))
        key = node.state.next_key("fetch")
        node.waits[key] = (prog, lambda reply: self._answered(node, prog, i, reply))
        node.handle(ev.Asked(key, dest, "coll", None, codec.dumps(op), node.world.now,
                             question, prog.hop_id))

    def _answered(self, node, prog, i: int, reply) -> None:
        if reply in (NO_ANSWER, NODE_GONE) or reply.get("error"):
            node.finish(prog, ok=False, error=f"NodeGone: op {i}: {reply}")
            return
        op = codec.loads(reply["value"])
        memo(node).learn(op.learned)  # (as collserve._settle: a chain's route ignores it)
        if not op.done:
            del op.learned[:-16]
            op.touched = []
            self._ask(node, prog, i, op)
            return
        if op.err is not None:
            node.finish(prog, ok=False, error=f"op {i}: {op.err}")
            return
        self.results[i] = op.out
        if self.pauses[i]:
            node.switch_out(prog, lambda: self._moved_on(node, prog, i))
        else:
            self._moved_on(node, prog, i)

    def _moved_on(self, node, prog, i: int) -> None:
        dest = self.hops[i]
        if dest is not None and node.state.route(dest) != node.name:
            node.hop(prog, dest, i + 1)
        else:
            self._next(node, prog, i + 1)


class _Node:
    """What collserve.serve asks of its node, over a simulated one."""

    def __init__(self, sim) -> None:
        self.sim, self.name, self.machine = sim, sim.name, sim.state
        self.config = types.SimpleNamespace(homes=list(sim.world.names), nodes=sim.names)
        self.kernel = types.SimpleNamespace(wait_on=self._no_wait)

    def _no_wait(self, waiters) -> None:
        raise AssertionError("nothing moves Refs in this workload")

    def new_ref_id(self) -> str:
        w = self.sim.world
        w.made_refs += 1
        return f"{self.name}.e{w.made_refs}"

    def encode_value(self, value, what: str = "the value") -> bytes:
        return codec.dumps(value)

    def emit(self, event) -> None:
        self.sim.handle(event)


def memo(node) -> Memo:
    """A node's memo (colldata.MEMO): one per boot, as a restart forgets it."""
    return node.world.memos.setdefault((node.name, node.epoch), Memo())


def serve(node, action: str, ref, arg) -> tuple[dict, bytes | None]:
    """The node asked: the op's steps while their Refs are here (collserve.serve), with this
    node's memo."""
    assert action.startswith("coll"), action
    saved = colldata.MEMO
    colldata.MEMO = collserve.MEMO = memo(node)
    try:
        op = collserve.serve(_Node(node), action, arg)
    finally:
        colldata.MEMO = collserve.MEMO = saved
    return {}, codec.dumps(op)


def setup(world: World, programs: int | None = None, within: float = 1.0) -> list:
    rng = random.Random(f"colls-{world.seed}")
    world.pause_rng = rng
    world.serve = serve
    world.memos, world.made_refs = {}, 0
    client = SimClient(world)
    made = []
    for k in range(programs if programs is not None else rng.randint(2, 8)):
        n = rng.randint(1, 4)
        ops = [("append", rng.choice(LISTS)) if rng.random() < 0.7
               else ("update", rng.choice(KEYS)) for _ in range(n)]
        pid = f"{client.name}-{k}"
        p = Steps(f"p{k}", ops, [rng.choice((None, None, *world.names)) for _ in range(n)],
                  [rng.random() < 0.3 for _ in range(n)])
        world.programs[pid] = p
        world.at(world.now + rng.uniform(0, within), client.submit, pid,
                 rng.choice(world.names))
        made.append((pid, p))
    world.colls = (made, client, list(world.names))
    world.submitting_until = within
    world.seed_copies()
    return made


def _value(world: World, ref_id: str, lost: set):
    """A Ref's value in its node's store (None: never written; `lost`: on a node gone)."""
    home = ref_id.split(".", 1)[0]
    if home in lost:
        return lost
    blob = world.nodes[world.route(home)].store.refs.get(ref_id)
    return None if blob is None else codec.loads(blob)


def check(world: World) -> None:
    made, client, names = world.colls
    lost = {n for n in names if n in world.fenced and n not in world.heirs}
    seen: dict[str, list] = {}  # tag -> where it is ("l1", index) / ("d", key)
    for name in LISTS:
        c = 0
        while True:
            ref_id = colldata.chunk_id(name, names, c)
            chunk = _value(world, ref_id, lost)
            if chunk is None:
                break
            if chunk is not lost:
                for j, blob in enumerate(chunk):
                    seen.setdefault(codec.loads(blob), []).append((name, c * CHUNK + j))
            c += 1
    index_lost = False
    for j in range(SHARDS):
        shard = _value(world, colldata.shard_id(DICT, names, j), lost)
        if shard is lost:
            index_lost = True
            continue
        for key, eid in (shard or {}).values():
            tags = _value(world, eid, lost)
            for tag in () if tags is None or tags is lost else tags:
                seen.setdefault(tag, []).append((DICT, key))
    for tag, where in seen.items():
        if len(where) > 1:
            world.violate(f"{tag} done {len(where)} times: {where}")
    for pid, p in made:
        reports = client.runs[pid].reports if pid in client.runs else None
        if not reports or not reports[0][0]:
            continue
        for i, (what, name) in enumerate(p.ops):
            where = seen.get(p.tag(i))
            if where is None:
                if what == "append" and colldata.home(name, names, p.results[i] // CHUNK) \
                        in lost or what == "update" and (lost or index_lost):
                    continue  # (its Refs went with a node declared gone)
                world.violate(f"{pid} was told ok, but its {what} {i} is not in {name}")
            elif what == "append" and where[0] != (name, p.results[i]):
                world.violate(f"{pid}'s append {i} returned {p.results[i]}, but its tag is "
                              f"at {where[0]}")


def run_seed(seed: int, **kw) -> World:
    """One run; it goes on 5 s after every program's outcome (the nodes' forgets)."""
    world = World(seed, **kw)
    setup(world)
    world.run(drain=5.0)
    if not world.violations:
        check(world)
    return world
