"""The node's side of Swarm collections (swarm/collections.py): the steps of an operation,
each run on the node that holds the Ref it touches (their Refs and the op: colldata.py).

An operation is a `CollOp`: a small state machine whose `stage` names the next step and whose
`target` names the Ref that step must run beside (None: it runs anywhere). The program's driver
(swarm/collections.py) either moves the program to the target (migrating, when the step
`moves`) or asks the target's node to run the steps there (`serve`, a `fetch` message with
action "coll"); the node runs steps for as long as their targets are local, and sends the
op back. A step never suspends: each is atomic on its node (the kernel is cooperative), which
makes `update` and `increment` atomic where the element lives.
"""

from __future__ import annotations

from swarm.continuation import codec
from swarm.continuation.capture import Capture
from swarm.continuation.errors import NotMigratable
from swarm.node import collchain, remoteerrors
from swarm.node.asking import ask
from swarm.node.asking import tell as _tell
from swarm.node.colldata import (
    DEFAULT_CHUNK,
    DEFAULT_SHARDS,
    MEMO,
    CollOp,
    home,
    shard_id,
)
from swarm.wire import values

READY_CAP = 256  # items an asked node collects for an iteration before answering


# ---- running steps ----------------------------------------------------------------------------

def locate(node, ref_id: str, hint: str | None = None) -> str:
    """The node holding `ref_id` as far as this node knows (here: after any relocation of it
    in flight has finished, and any atomic block committing it across nodes). `hint`: where
    the caller believes it is (default: this node's memo, or the node its id names)."""
    hint = hint or MEMO.hint(ref_id)
    data = node.machine.data
    while (where := node.machine.locate(ref_id, hint)) == node.name:
        waiters = data.moving.get(ref_id)
        if waiters is None and data.txns.locked(ref_id):  # an atomic block is committing it
            waiters = data.txns.waiting.setdefault(ref_id, [])
        if waiters is None:
            break
        node.kernel.wait_on(waiters)
    return where


def step(node, op: CollOp, fn=None) -> None:
    """Run op's next step here (its target, if any, is here). Never suspends."""
    if op.stage == "start":
        return _start(node, op)
    STAGES[op.stage](node, op, fn)


def serve(node, action: str, op):
    """An asked node: run the op's steps while their targets are here, then send it back
    (done, or with `dest` saying where to go next). `coll-learn`: just memo the facts."""
    if action == "coll-learn":
        MEMO.learn(op)
        return None
    MEMO.learn(op.learned)
    op.learned = []
    op.names(node.config.homes)
    ran = False
    while not op.done and len(op.ready) < READY_CAP:
        if op.target is not None:
            if ran and op.qid is not None and collchain.busy(node, op.target):
                op.dest = node.name  # (asked again, under the chain's next id)
                return op
            where = locate(node, op.target)
            if where != node.name:
                op.learn("hint", op.target, where)
                op.dest = where
                return op
        if op.needs_program or (op.moves and not op.fetch_all):
            op.dest = node.name  # the program comes here for this step
            if op.target is not None and MEMO.hint(op.target) != node.name:
                op.learn("hint", op.target, node.name)  # (the asker may not know)
            return op
        step(node, op)
        ran = True
    return op


def tell(node, peer: str | None, facts: list) -> None:
    """Send facts to a peer's memo, asking for nothing (a stale entry of its own, found)."""
    if peer and peer != node.name and peer in node.config.nodes and facts:
        _tell(node, peer, "coll-learn", facts)


def _read(node, ref_id: str, empty):
    blob = node.machine.data.blob(ref_id)
    return empty if blob is None else values.decode(blob)


# ---- the stages ---------------------------------------------------------------------------------

def _start(node, op: CollOp) -> None:
    """Know the collection (root, from the memo or on its node), then the op's first step."""
    meta = MEMO.meta.get(op.root)
    if meta is None:
        return op.go("root", op.root)
    _check_meta(op, meta)
    if not op.done:
        _begin(node, op)


def _check_meta(op: CollOp, meta: tuple[str, int]) -> None:
    kind, param = meta
    if kind != op.kind:
        return op.fail("TypeError", f"{op.name!r} is a swarm.{kind.capitalize()}, not a "
                                    f"swarm.{op.kind.capitalize()}")
    if op.param is not None and op.param != param:
        what = "values per chunk" if kind == "list" else "shards"
        return op.fail("ValueError", f"{op.name!r} was created with {param} {what}, not "
                                     f"{op.param}")
    op.param = param


def _root(node, op: CollOp, fn) -> None:
    """On the root's node: create the collection if it is new, else check it is this kind."""
    meta = _read(node, op.root, None)
    if meta is None:
        default = DEFAULT_CHUNK if op.kind == "list" else DEFAULT_SHARDS
        meta = {"kind": op.kind, "param": op.param or default}
        if op.kind == "list":
            meta["tail"] = 0
        node.machine.data.write(op.root, meta)
    op.learn("meta", op.root, (meta["kind"], meta["param"]))
    if "tail" in meta:
        op.learn("tail", op.root, meta["tail"])
    _check_meta(op, (meta["kind"], meta["param"]))
    if not op.done:
        _begin(node, op)


def _begin(node, op: CollOp) -> None:
    """The first step of the op proper (the collection is known)."""
    a, kind = op.action, op.kind
    if a in ("len", "iter") and kind != "list":
        # (shards homed here first; a node that joined later homes none: `ring`)
        here = op.nodes.index(node.name) if node.name in op.nodes else 0
        op.order = sorted(range(op.param), key=lambda j: (
            (op.nodes.index(home(op.name, op.nodes, j)) - here) % len(op.nodes), j))
        op.i, op.acc = 0, 0
        return _next_shard(op, "count" if a == "len" else "scan")
    if kind == "set":
        return op.go("member", op.shard(op.kb), moves=a != "contains")
    if kind == "dict":
        eid = MEMO.index.get((op.root, op.kb)) if a != "contains" else None
        if eid is not None:
            op.eid, op.memo_node = eid, node.name
            return op.go("elem_" + a, eid, moves=True)
        return op.go("find", op.shard(op.kb))
    # lists
    if a == "append":
        tail = MEMO.tails.get(op.root)
        return op.go("append", op.chunk(tail), moves=True) if tail is not None \
            else op.go("tail", op.root)
    if a == "iter":
        op.i = 0
        return op.go("scan", op.chunk(0), moves=True)
    if a in ("get", "set") and op.key >= 0:
        return op.go("item", op.chunk(op.key // op.param), moves=True)
    op.go("tail", op.root)  # len, a slice, a negative index: the length first


def _next_shard(op: CollOp, stage: str) -> None:
    if op.i >= len(op.order):
        return op.finish(op.acc if stage == "count" else None)
    op.go(stage, shard_id(op.name, op.nodes, op.order[op.i]), moves=stage == "scan")


# Dicts ----------------------------------------------------------------------------------------

def _find(node, op: CollOp, fn) -> None:
    """On the key's shard: where is its element?"""
    entry = _read(node, op.target, {}).get(op.kb)
    if op.action == "contains":
        return op.finish(entry is not None)
    if entry is None:
        if op.action in ("get", "pop"):
            return op.finish(missing=True)
        return op.go("insert", op.target, moves=True)
    op.eid, op.memo_node = entry[1], None
    op.learn("index", op.root, op.kb, op.eid)
    op.go("elem_" + op.action, op.eid, moves=True)


def _insert(node, op: CollOp, fn) -> None:
    """On the key's shard: a new key gets its element Ref, here (atomically: a key inserted
    meanwhile is found, and the op goes to its element instead)."""
    index = _read(node, op.target, {})
    entry = index.get(op.kb)
    if entry is not None and entry[1] != op.replacing:
        op.eid, op.memo_node = entry[1], None
        return op.go("elem_" + op.action, op.eid, moves=True)
    if op.action == "set":
        blob, out = op.blob, None
    else:
        ok, out = _apply(op, fn or op.fn, values.decode(op.blob))  # fn(default)
        if not ok:
            return
        blob = codec.dumps(out)
    eid = node.new_ref_id()
    node.machine.data.write_blob(eid, blob)
    index[op.kb] = (op.key, eid)
    node.machine.data.write(op.target, index)
    op.touched.append(eid)
    op.learn("index", op.root, op.kb, eid)
    op.finish(out)


def _element_gone(node, op: CollOp) -> bool:
    """The element is not here (deleted: a pop finished, or is finishing). A memo entry that
    led here is stale: forget it here and where it came from, and look in the index."""
    if node.machine.data.has(op.eid):
        return False
    if op.memo_node is not None:
        fact = ("forget", op.root, op.kb)
        MEMO.learn([fact])
        op.learned.append(fact)
        tell(node, op.memo_node, [fact])
        op.memo_node = None
        op.go("find", op.shard(op.kb))
        return True
    if op.action in ("get", "pop"):
        op.finish(missing=True)
    else:  # a write: the key gets a new element (unless it got one meanwhile)
        op.replacing = op.eid
        op.go("insert", op.shard(op.kb), moves=True)
    return True


def _elem_get(node, op: CollOp, fn) -> None:
    if not _element_gone(node, op):
        op.touched.append(op.eid)
        op.finish(node.machine.data.blob(op.eid))


def _elem_set(node, op: CollOp, fn) -> None:
    if not _element_gone(node, op):
        node.machine.data.write_blob(op.eid, op.blob)
        op.touched.append(op.eid)
        op.finish()


def _elem_update(node, op: CollOp, fn) -> None:
    if not _element_gone(node, op):
        ok, new = _apply(op, fn or op.fn, node.machine.data.read(op.eid))
        if not ok:
            return
        node.machine.data.write(op.eid, new)
        op.touched.append(op.eid)
        op.finish(new)


def _elem_pop(node, op: CollOp, fn) -> None:
    if not _element_gone(node, op):
        out = node.machine.data.blob(op.eid)
        node.machine.data.delete(op.eid)
        op.touched.append(op.eid)
        op.acc = out
        op.go("unlink", op.shard(op.kb))


def _unlink(node, op: CollOp, fn) -> None:
    """On the shard, after a pop deleted the element: drop its entry (unless the key has a
    new element already)."""
    index = _read(node, op.target, {})
    entry = index.get(op.kb)
    if entry is not None and entry[1] == op.eid:
        del index[op.kb]
        node.machine.data.write(op.target, index)
    op.learn("forget", op.root, op.kb)
    op.finish(op.acc)


def _apply(op: CollOp, fn, old) -> tuple[bool, object]:
    """update's function on the element's node, with nothing else running meanwhile:
    (True, new value), or (False, None) after failing the op (increment of a str...). The
    program's own function raises its errors to the program."""
    try:
        return True, call_update_fn(fn, old)
    except Exception as e:
        if op.user_fn:
            raise
        op.fail(type(e).__name__, str(e))
        return False, None


def call_update_fn(fn, old):
    """fn(old) for an update (of a collection's element, or Ref.update): nothing may start
    another operation meanwhile (the program is not switched out: it runs node code)."""
    global _updating
    _updating = True
    try:
        return fn(old)
    except Capture:
        raise RuntimeError(UPDATE_FN_TOUCHED) from None
    finally:
        _updating = False


_updating = False  # an update's function is running (it must not start another operation)
UPDATE_FN_TOUCHED = ("the function given to update() must not touch Refs or collections, nor "
                     "move: it runs where the value lives, atomically")


def updating() -> bool:
    return _updating


# Sets -----------------------------------------------------------------------------------------

def _member(node, op: CollOp, fn) -> None:
    members = _read(node, op.target, {})
    a, present = op.action, op.kb in members
    if a == "contains":
        return op.finish(present)
    op.touched.append(op.target)
    if a == "add" and not present:
        members[op.kb] = op.key
    elif a in ("discard", "remove") and present:
        del members[op.kb]
    elif a == "remove":
        return op.fail("KeyError", op.key)
    else:
        return op.finish()
    node.machine.data.write(op.target, members)
    op.finish()


# Dicts and Sets: counting and iterating --------------------------------------------------------

def _count(node, op: CollOp, fn) -> None:
    op.acc += len(_read(node, op.target, {}))
    op.i += 1
    _next_shard(op, "count")


def _scan(node, op: CollOp, fn) -> None:
    """On a shard (an iteration): take its entries, those whose elements are on one node
    together (a Dict's values or items), and emit them."""
    if op.kind == "list":
        op.touched.append(op.target)
        op.batch = _read(node, op.target, [])
        op.pos = 0
        return _emit(node, op, fn)
    entries = _read(node, op.target, {})
    if op.kind == "set":
        op.touched.append(op.target)
        op.batch = [entries[kb] for kb in sorted(entries)]
    elif op.mode == "keys":
        op.batch = [entries[kb][0] for kb in sorted(entries)]
    else:
        here = node.name
        op.batch = sorted((entry for _, entry in sorted(entries.items())),
                          key=lambda e: (MEMO.hint(e[1]) != here, MEMO.hint(e[1])))
    op.pos = 0
    _emit(node, op, fn)


def _emit(node, op: CollOp, fn) -> None:
    """The next item of the batch: a key or member at once, a Dict value where it lives."""
    if op.pos >= len(op.batch):
        op.batch = []
        if op.kind == "list":
            if op.pos < op.param:  # a chunk that is not full is the last
                return op.finish()
            op.i += 1
            return op.go("scan", op.chunk(op.i), moves=True)
        op.i += 1
        return _next_shard(op, "scan")
    item = op.batch[op.pos]
    if op.kind != "dict" or op.mode == "keys":
        op.pos += 1
        op.ready.append(item)
        return op.go("emit", None)
    op.go("elem_emit", item[1], moves=True)


def _elem_emit(node, op: CollOp, fn) -> None:
    key, eid = op.batch[op.pos]
    op.pos += 1
    blob = node.machine.data.blob(eid)
    if blob is not None:  # (else popped since the scan)
        op.touched.append(eid)
        op.ready.append((key, blob))
    op.go("emit", None)


# Lists ----------------------------------------------------------------------------------------

def _tail(node, op: CollOp, fn) -> None:
    tail = _read(node, op.root, {}).get("tail", 0)
    op.learn("tail", op.root, tail)
    op.i = tail
    if op.action == "append":
        return op.go("append", op.chunk(tail), moves=True)
    op.go("length", op.chunk(tail))


def _length(node, op: CollOp, fn) -> None:
    n = op.i * op.param + len(_read(node, op.target, []))
    if op.action == "len":
        return op.finish(n)
    if op.action == "slice":
        r = range(*op.key.indices(n))
        if not r:
            return op.finish([])
        op.acc = (min(r), max(r) + 1, [], n)
        return op.go("collect", op.chunk(op.acc[0] // op.param), moves=True)
    if op.key + n < 0:
        return op.fail("IndexError", "swarm.List index out of range")
    op.key += n
    op.go("item", op.chunk(op.key // op.param), moves=True)


def _append(node, op: CollOp, fn) -> None:
    """On the tail chunk: append, unless it is full - then the root's tail moves on."""
    c = int(op.target.rsplit(".", 1)[1])
    values = _read(node, op.target, [])
    if len(values) >= op.param:
        op.i = c
        return op.go("advance", op.root)
    values.append(op.blob)
    node.machine.data.write(op.target, values)
    op.touched.append(op.target)
    op.finish(c * op.param + len(values) - 1)


def _advance(node, op: CollOp, fn) -> None:
    meta = _read(node, op.root, {})
    meta["tail"] = max(meta.get("tail", 0), op.i + 1)
    node.machine.data.write(op.root, meta)
    op.learn("tail", op.root, meta["tail"])
    op.go("append", op.chunk(meta["tail"]), moves=True)


def _item(node, op: CollOp, fn) -> None:
    values = _read(node, op.target, [])
    at = op.key % op.param
    if at >= len(values):
        return op.fail("IndexError", "swarm.List index out of range")
    op.touched.append(op.target)
    if op.action == "get":
        return op.finish(values[at])
    values[at] = op.blob
    node.machine.data.write(op.target, values)
    op.finish()


def _collect(node, op: CollOp, fn) -> None:
    lo, hi, out, _ = op.acc
    c = (lo + len(out)) // op.param
    values = _read(node, op.target, [])
    first = c * op.param
    out.extend(values[max(lo - first, 0):hi - first])
    op.touched.append(op.target)
    if lo + len(out) >= hi or len(values) < op.param:
        return op.finish(out)
    op.go("collect", op.chunk(c + 1), moves=True)


STAGES = {
    "root": _root, "find": _find, "insert": _insert, "elem_get": _elem_get,
    "elem_set": _elem_set, "elem_update": _elem_update, "elem_pop": _elem_pop,
    "unlink": _unlink, "member": _member, "count": _count, "scan": _scan, "emit": _emit,
    "elem_emit": _elem_emit, "tail": _tail, "length": _length, "append": _append,
    "advance": _advance, "item": _item, "collect": _collect,
}


# ---- a program's operation ------------------------------------------------------------------

def drive(node, p, can_move) -> CollOp:
    """Run the op's steps: here when their Ref is here; else move the program there (a step
    that touches data, when the program can move) or ask that node to run them. An op that
    changes the collection and asks every step is a chain (collchain.py): asked with ids."""
    if updating():
        raise RuntimeError("the function given to update() must not use collections: it "
                           "runs where the element lives, atomically")
    op = p.op
    prog = node.kernel.current_context()
    if can_move is False or (prog is not None and prog.policy == "fetch"):
        op.fetch_all = True  # asked nodes run every step they can
    if op.qid is None and op.fetch_all and op.stage == "start" and _chains(prog, op):
        collchain.start(op, prog.next_question_id())
    sent_on = None  # where the node asked last said the target is now
    while not op.done and not op.ready:
        if op.qid is not None:
            op = _chain_step(node, p, op, prog)
            continue
        where = node.name if op.target is None else sent_on or locate(node, op.target)
        sent_on = None
        if op.came_from is not None:  # just moved here: did a stale hint send us?
            if where != node.name:
                tell(node, op.came_from, [("hint", op.target, where)])
            op.came_from = None
        if where == node.name:
            step(node, op, p.fn)
            _settle(node, op)
            continue
        if op.moves:
            if callable(can_move):
                can_move = can_move()
            if op.needs_program:  # update's function: only the program can run it
                _move_for_program(node, p, op, prog, where, can_move)
            if can_move and not (prog is not None and prog.should_fetch()):
                op.dest, op.came_from = where, node.name
                raise Capture(p, p.primitive)
            op.fetch_all = True
            if _chains(prog, op):  # (a capture failed half-way: chained from here)
                collchain.start(op, prog.next_question_id())
                continue
        asked, op.dest = op.target, None
        p.op = op = _ask(node, where, op)
        if op.target == asked and op.dest not in (None, where, node.name):
            # (it followed its forward further: this node's own forward, which `locate`
            # takes first, may point back to where it asked - a shard moved twice from here)
            sent_on = op.dest
        if p.iterator is not None:
            p.iterator.op = op
        _settle(node, op)
    return op


def _chains(prog, op: CollOp) -> bool:
    """Is `op` asked as a chain (collchain.py)? One that changes the collection, asked by a
    program that has questions numbered (asking.question_id)."""
    return prog is not None and prog.hop_id is not None and collchain.changes(op)


def _chain_step(node, p, op: CollOp, prog) -> CollOp:
    """A chain's next ask - or the step the program's own function runs (update), here or
    where the program moves for it. Never a step run here otherwise (collchain.py)."""
    if op.needs_program:
        where = op.dest if op.dest is not None else collchain.stored_location(node, op)
        if where == node.name:  # (after a relocation or a block's commit of it, if any)
            where = locate(node, op.target, node.name)
        if where == node.name:
            op.dest = None
            step(node, op, p.fn)
            _settle(node, op)
            return op
        _move_for_program(node, p, op, prog, where, True)
    dest, question = collchain.next_ask(op, lambda: collchain.stored_location(node, op))
    p.op = op = _ask(node, dest, op, question)
    _settle(node, op)
    return op


def _move_for_program(node, p, op: CollOp, prog, where: str, can_move) -> None:
    """update's function runs where the value is: the program moves there (raises)."""
    if not can_move:
        raise TypeError("update()'s function runs where the value lives: the "
                        "program must be able to move there")
    if prog is not None and prog.fetch_once:  # it just failed to move
        raise NotMigratable("update(key, fn) runs fn where the value lives, "
                            "but this program cannot move (a local of it "
                            "cannot travel)")
    op.dest, op.came_from = where, node.name
    raise Capture(p, p.primitive)


def _ask(node, where: str, op: CollOp, question: str | None = None) -> CollOp:
    """Ask `where` to run the op's steps. A chain's ask has an id (`question`): done once,
    asked again until answered. Any other ask changes nothing a second copy would change
    again (it reads, or creates a root that is there, or moves a tail on that moved on):
    asked again until answered too (`coll-read`, machine/questions.py)."""
    node.machine.count("fetches")  # (swarm status: answers brought to a program that stays)
    once = question is not None or (op.fetch_all and collchain.changes(op))
    action = "coll" if once else "coll-read"  # (once, no id: asked by no program's segment)
    reply, value = ask(node, where, action, None, op, op_id=question)
    if reply.get("error"):  # (a full disk there...: the error it raised, remoteerrors.py)
        raise remoteerrors.rebuild(reply, where, f"a step of {op.kind} {op.name!r}'s "
                                                 f"{op.action}")
    return value


def _settle(node, op: CollOp) -> None:
    """Memo what the op learned (and keep the last facts, for the next nodes); count the
    Refs it touched for the placer."""
    if op.learned:  # (kept: the nodes the program goes on to learn them too)
        MEMO.learn(op.learned)
        del op.learned[:-16]
    if op.touched:
        prog = node.kernel.current_context()
        for ref_id in op.touched:
            node.machine.access.record(prog, ref_id)
        op.touched = []
