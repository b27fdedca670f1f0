"""Nodes joining a running simulated cluster (`swarm node add`: swarm/membership.py; the
node's side: swarm/node/members.py and machine/fences.py `join`).

As the operator's command does: the cluster file gets the node (World.names; a node that
boots later reads it there); the node starts with a new store at once and its mirror taken
as down (`--fresh --without-mirror`: no copy of it exists anywhere, and the others do not
know it yet - their gates refuse it, World._deliver); then every live node is told (`join`)
until it answers. A node that knows the new one sends its copy there if the new node comes
after it in order, and takes its messages.
"""

from __future__ import annotations

RETRY = 1.0


def join(world, name: str, ready=None) -> None:
    """`ready`: a test's condition (world -> bool) the operator waits for first."""
    if (world.removal_started and world.removing) or (ready and not ready(world)):
        world.at(world.now + 0.5, join, world, name, ready)  # (refused while a removal is
        return  # under way: the operator runs it again later)
    world.names.append(name)
    node = world.nodes[name]
    node.epoch += 1
    node.up = True
    node.boot_names = list(world.names)
    node.store.be_born(world.new_store_id())
    world.note(f"{name} joins: started with a new store")
    node.start(mirror_down=True)
    Joiner(world, name)


class Joiner:
    """The operator's command telling every live node of the new one (membership.tell)."""

    def __init__(self, world, node: str) -> None:
        self.world, self.node = world, node
        self.name = f"join-{node}"
        self.answered: set[str] = set()
        world.operators[self.name] = self
        self._ask()

    def _others(self) -> list[str]:
        w = self.world
        return [n for n in w.names if n != self.node and n not in w.fenced]

    def _ask(self) -> None:
        w = self.world
        missing = [n for n in self._others() if n not in self.answered]
        if not missing:
            w.note(f"{self.node} joined: every live node knows it")
            return
        for n in missing:
            w.send(self.name, n, "join", {"node": self.node, "endpoint": "tcp://sim",
                                          "members": w.names[:w.names.index(self.node) + 1]})
        w.at(w.now + RETRY, self._ask)

    def receive(self, src: str, kind: str, fields: dict) -> None:
        if kind == "joined" and fields["node"] == self.node and not fields.get("error"):
            self.answered.add(src)
