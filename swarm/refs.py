"""The public data API: Ref, here(), nodes(), move_to(). (spawn and Future: futures.py.)

A Ref is a remote variable: its value lives in the store of one node. Touching a Ref that
lives elsewhere captures the running program; the node ships the continuation to the Ref's
node, where the access is performed locally and the program goes on (the decision - run here,
move, or fetch under the program's policy - is the node's: swarm/node/traps.py). A Ref
pickles as a tiny handle (id + location hint), never as its value.
"""

from __future__ import annotations

from swarm.handles import Handle
from swarm.node import traps


class Ref(Handle):
    """A remote variable. `Ref(value, at="n2")` creates it on node n2 (a forced remote
    variable); without `at`, on the node the program runs on."""

    __slots__ = ()
    kind = "ref"

    def __init__(self, value=None, at: str | None = None) -> None:
        self.id, self.hint = traps.ref_create(value, at, Ref)

    def get(self):
        """The value. Moves the program to the Ref's node if it lives elsewhere."""
        return traps.ref_access(self, "get", None, Ref.get)

    def set(self, value) -> None:
        """Replace the value (where it lives)."""
        return traps.ref_access(self, "set", value, Ref.set)

    def update(self, fn):
        """Replace the value with fn(value) where it lives, atomically, and return the new
        value: no other access of this Ref comes between the read and the write, so
        concurrent updates never lose one another (`r.set(r.get() + 1)` can). The program
        moves to the Ref's node whatever its policy (only it can run fn); fn must not touch
        Refs or collections. Inside swarm.atomic() it is a get and a set of the block."""
        if not callable(fn):
            raise TypeError(f"update() takes a function of the old value, not {fn!r}")
        return traps.ref_update(self, fn, Ref.update)

    def delete(self) -> None:
        """Remove the Ref and its value."""
        return traps.ref_access(self, "delete", None, Ref.delete)

    @classmethod
    def named(cls, name: str) -> Ref:
        """The Ref named `name`: the same Ref for every program, now and later, kept until
        deleted (a garbage collection never takes it, nor what its value holds: docs/gc.md).
        Its home is fixed by its name, as a collection's; `set()` gives it its first value,
        and `get()` before that raises KeyError."""
        from swarm.node.colldata import check_name, stable_hash

        check_name(name)
        names = traps.homes()
        home = names[stable_hash(b"named:" + name.encode()) % len(names)]
        return cls._handle(f"{home}.named.{name}", home)

    @classmethod
    def open(cls, ref_id: str) -> Ref:
        """The Ref whose id is `ref_id` (`r.id`, written down by a program or a client).
        A Ref that only a written-down id holds is not kept by a garbage collection: keep it
        in a collection or name it (Ref.named) to keep it."""
        if not isinstance(ref_id, str) or "." not in ref_id:
            raise ValueError(f"not a Ref id: {ref_id!r}")
        return cls._handle(ref_id, ref_id.split(".", 1)[0])

    def relocate(self, node: str) -> None:
        """Move the value to `node` (the program stays where it is; the next access goes
        there). Accesses meanwhile wait; programs that arrive at the old node later are
        forwarded."""
        traps.check_node(node)
        traps.ref_access(self, "relocate", node, Ref.relocate)


def here() -> str:
    """The name of the node the program is running on now."""
    return traps.here()


def nodes() -> list[str]:
    """The names of the cluster's nodes, in cluster order."""
    return traps.names()


def move_to(node: str) -> None:
    """Move the running program to `node` (forcing Swarm to migrate the continuation)."""
    traps.move_to(node, move_to)
