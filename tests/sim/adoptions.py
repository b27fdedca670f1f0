"""A node's store adopted by its mirror, in the simulator (`swarm node remove`: swarm/adoption.py;
the machine's part: machine/fences.py, a fence with an heir; the heir's store: node/adopt.py).

The node leaves - it takes no new program, and stops cleanly once none is left on it - while
its mirror keeps a copy of every write it counted; then the
operator's command, as swarm/adoption.py does it:
1. fences the node with an heir - its mirror - on every live node, until each has written it:
   the node is refused from then on, and what is meant for it is held (not failed);
2. asks the heir to `adopt` it, until it answers: the heir stops, merges its copy of the
   node's store into its own (SimStore.merge: every table keyed by hop, program, Ref or
   question id), takes a new store id (its own mirror gets a snapshot) and boots again
   from it, as after a crash;
3. fences it again (phase 2) with the heir everywhere: the node's name means the heir from
   then on; then the cluster file says so (World.heirs: what clients and booting nodes read).

No program may end `NodeGone`, and every invariant of the workload holds (money.check reads
an account where its node's heir keeps it).
"""

from __future__ import annotations

from swarm.node import machine as m
from swarm.node.adopt import quiet

RETRY = 1.0
FORCE_AFTER = 60.0  # the operator runs the command again with --force after this
TRIES = 300  # a stop put off while programs are on the node or its copy lacks a write it
# counted (0.1 s apart)


def remove(world, name: str, after: float, tries: int = 0) -> None:
    """The node leaves (`leave`: it takes no new program or hop, swarm/adoption.py), and
    stops once no program is left on it and every write under way is done (a clean stop),
    unless its mirror lacks a write it counted (`exposed`, a mirror down or catching up:
    the command waits then); the rest of the operator's command follows `after` seconds
    later."""
    node = world.nodes[name]
    state = node.state if node.up and not node.restoring else None
    link = state.mirror if state is not None else None
    if state is not None and not state.leaving:
        node.handle(m.ClientRequest(next(iter(world.clients)), "leave"))  # (its answer:
        # a client's, which has no use for it)
        world.note(f"{name} leaves: takes no new program")
    busy = state is not None and (state.ledger.pending() or state.ledger.writing is not None
                                  or any(w[0] == "here" for w in state.present.values()))
    if link is None or link.node is None or link.down_since is not None or link.syncing \
            or link.exposed or link.have < link.seq or busy:
        if tries < TRIES:
            world.at(world.now + 0.1, remove, world, name, after, tries + 1)
        else:
            world.note(f"{name} not removed: its copy was never whole, or programs stayed")
            world.removing -= 1
        return
    heir = world.mirror_of(name, world.fenced)  # (the cluster file's: swarm/adoption.py)
    if link.node != heir:  # (a join under way: the node has not switched to it yet)
        world.at(world.now + 0.1, remove, world, name, after, tries + 1)
        return
    world.removal_started = True  # (a join now waits for the removal: membership.add)
    world.note(f"{name} drained: {heir} is to take its store")
    Adopter(world, name, heir, world.now + after)


class Adopter:
    """The operator's command (swarm/adoption.py): the three steps above, each asked again
    every RETRY until every node it asks has answered."""

    def __init__(self, world, node: str, heir: str, at: float) -> None:
        self.world, self.node, self.heir = world, node, heir
        self.name = f"adopt-{node}"
        self.step = 0
        self.force_after = FORCE_AFTER
        self.failover = False  # (failovers.py: the heir does not wait for its programs)
        self.first = 0.0  # (when `adopt` was first asked)
        self.answered: set[str] = set()
        world.operators[self.name] = self
        world.at(at, self._next)

    def _next(self) -> None:
        w = self.world
        self.step += 1
        self.answered = set()
        if self.step == 2:
            return self._stop_then_ask()
        if self.step == 4:
            w.fenced.add(self.node)
            w.heirs[self.node] = self.heir
            w.removing -= 1
            w.note(f"{self.node} removed: {self.heir} has its store")
            return
        self._ask()

    def _stop_then_ask(self) -> None:
        if self._stopped():
            self._ask()
        else:
            self.world.at(self.world.now + 0.1, self._stop_then_ask)

    def _stopped(self) -> bool:
        """Every node holds what is meant for the node: once its copy has every write it
        made (what it answered meanwhile, to questions asked before), it stops."""
        node = self.world.nodes[self.node]
        node.lost = True  # (it does not start again: the cluster file names its heir)
        if node.up and node.state is not None:  # (one restoring has counted nothing yet)
            link = node.state.mirror
            if link.node != self.heir or link.down_since is not None or link.syncing or \
                    link.exposed or \
                    link.have < link.seq or link.waiting or node.state.ledger.pending():
                return False
        if node.up:
            node.crash()
            self.world.note(f"{self.node} stops")
        return True

    def _targets(self) -> list[str]:
        w = self.world
        if self.step == 2:
            return [self.heir]
        return [n for n in w.names if n != self.node and n not in w.fenced]

    def _ask(self) -> None:
        w = self.world
        missing = [n for n in self._targets() if n not in self.answered]
        if not missing:
            return self._next()
        for n in missing:
            if self.step == 2:  # (programs stayed on the heir: asked again; after a
                self.first = self.first or w.now  # minute, with --force)
                w.send(self.name, n, "adopt", {"node": self.node,
                                               "force": w.now - self.first > self.force_after,
                                               "failover": self.failover})
            else:
                w.send(self.name, n, "fence", {"node": self.node, "heir": self.heir,
                                               "phase": 1 if self.step == 1 else 2})
        w.at(w.now + RETRY, self._retry, self.step)

    def _retry(self, step: int) -> None:
        if step == self.step:
            self._ask()

    def receive(self, src: str, kind: str, fields: dict) -> None:
        if fields.get("node") != self.node:
            return
        if self.step == 2 and kind == "adopted":
            if fields.get("error"):  # (programs stayed on the heir: asked again)
                return
            self.answered.add(src)
        elif self.step in (1, 3) and kind == "fenced" and \
                fields["phase"] == (1 if self.step == 1 else 2):
            self.answered.add(src)
        else:
            return
        if all(n in self.answered for n in self._targets()):
            self._next()


def adopt(node, src: str, fields: dict) -> None:
    """The heir's part (node/adopt.py): once its fence of the node is on its disk, stop,
    merge the copy, take a new store id, boot again; answered `adopted` (again, if asked
    again, from the store)."""
    w = node.world
    name = fields["node"]
    store = node.store
    if name in store.adopted:
        w.send(node.name, src, "adopted", {"node": name})
        return
    if name not in store.fenced or node.restoring:  # (the operator asks again)
        return
    force = fields.get("force", False)
    st = node.state
    pending = {q.send.fields.get("op") for q in st.asks.values() if q.node == name}
    staying = any(w[0] == "here" and (w[3] in st.rerun or set(st.answers.used.get(
        w[3], {}).get(name, ())) - pending) for w in st.present.values())
    error = quiet(node.state, name, w.now, force,  # (node/adopt.py: no program left first)
                  fields.get("failover", False))
    if error:
        w.note(f"{node.name} does not adopt {name} yet: {error}")
        w.send(node.name, src, "adopted", {"node": name, "error": error})
        return
    if not node.state.adopting.get(name, (0, False))[1]:
        return
    kept = node.copies.get(name)
    if kept is None or not kept.id:
        w.send(node.name, src, "adopted", {"node": name, "error": "it keeps no copy"})
        return
    if force and staying:
        w.forced += 1  # (programs run again across the merge: the documented limit)
    node.crash()
    store.merge(kept)
    store.adopted.add(name)
    store.heirs[name] = (node.name, True)
    store.be_born(w.new_store_id())
    w.adoptions += 1
    w.note(f"{node.name} adopts {name}'s store (record {kept.seq}) and starts again")
    node.boot()
    w.send(node.name, src, "adopted", {"node": name})
