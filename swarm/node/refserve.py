"""The node's side of Refs: where a Ref is, what an access does, fetches, relocations.

A mixin of Node (server.py), kept apart so that the I/O shell stays readable: it uses the
node's store, data (data.py), kernel and send_node. Everything that may wait - a fetch, a
relocation, an access to a Ref being relocated - runs in a program's greenlet (or one spawned
for a fetch request) and parks there with kernel.wait.

A relocation, on the Ref's node: remember it in the store (`moves`), make accesses here wait,
send the value to the new node ("adopt"), and on its answer delete the value and leave a
forward. Accesses that waited then follow the forward; a program that arrives later with a
stale hint is sent on by the forward; a restart finishes a relocation that had started.
"""

from __future__ import annotations

import pickle
import time

from swarm.futures import TaskFailed
from swarm.node import collserve
from swarm.refs import Ref
from swarm.wire import decode

NO_ANSWER = object()  # what wakes a program whose question timed out (expire_asks)


class RefService:
    def new_ref_id(self) -> str:
        """An id for a Ref created here (its first part names this node, its home)."""
        return f"{self.name}.{self.boot}.{next(self.ids)}"

    def create_ref(self, value) -> str:
        ref_id = self.new_ref_id()
        self.data.write(ref_id, value)
        self.access.record(self.kernel.current_context(), ref_id)
        return ref_id

    def locate(self, ref) -> str:
        if self.data.has(ref.id) or ref.id in self.data.moving:
            return self.name
        return self.store.forward(ref.id) or (ref.hint if ref.hint != self.name
                                              else ref.id.split(".")[0])

    def wait_while_moving(self, ref_id: str) -> bool:
        """Park the running program while `ref_id` is being relocated; False if it is not."""
        waiters = self.data.moving.get(ref_id)
        if waiters is None:
            return False
        self.kernel.wait_on(waiters)
        return True

    def should_fetch(self) -> bool:
        prog = self.kernel.current_context()
        if prog is None:
            return False
        if prog.fetch_once:
            prog.fetch_once = False
            return True
        return prog.policy == "fetch"

    def remote_action(self, ref, action: str, arg):
        """Do a Ref operation on the Ref's node without moving: the program's greenlet parks
        until the answer comes (other programs run meanwhile)."""
        self.access.record(self.kernel.current_context(), ref.id)
        while True:
            self.stats["fetches"] += 1
            reply = self._ask(ref.hint, action, ref.id, arg)
            if reply.get("moved_to"):
                ref.hint = reply["moved_to"]
                continue
            if reply.get("failed"):
                raise TaskFailed(*reply["failed"])
            if reply.get("error"):
                raise KeyError(reply["error"])
            if "blob" in reply:
                return decode.ref_value(reply["blob"])
            return reply.get("value")

    def remote_create(self, value, at: str) -> str:
        ref_id = self._ask(at, "create", None, value)["value"]
        self.access.record(self.kernel.current_context(), ref_id)
        return ref_id

    def on_fetch(self, identity: bytes, env) -> None:
        # served in a greenlet of its own: a relocation or a future may make it wait
        self.kernel.spawn(self._serve_fetch, decode.payload(env), env.sender)

    def _serve_fetch(self, p: dict, sender: str) -> None:
        reply = {"key": p["key"]}
        try:
            if p["action"] == "create":
                reply["value"] = self.create_ref(p["arg"])
            elif p["action"] == "adopt":  # a Ref relocated here
                self.data.write_blob(p["ref"], p["arg"])
            elif p["action"].startswith("coll"):  # a collection's steps (collserve.py)
                reply["value"] = collserve.serve(self, p["action"], p["arg"])
            elif p["action"] == "wait":
                try:
                    reply["value"] = self.await_future(p["ref"])
                except TaskFailed as e:
                    reply["failed"] = (str(e), e.traceback)
            else:
                ref = Ref._handle(p["ref"], self.name)
                while (where := self.locate(ref)) == self.name and \
                        self.wait_while_moving(ref.id):
                    pass
                if where != self.name:
                    reply["moved_to"] = where
                elif p["action"] == "get":  # the stored bytes, not the value pickled again
                    reply["blob"] = self.data.blob(ref.id)
                    if reply["blob"] is None:
                        raise KeyError(f"{ref!r} was deleted")
                else:
                    reply["value"] = self.ref_action(ref, p["action"], p["arg"])
        except Exception as e:
            reply["error"] = f"{type(e).__name__}: {e}"
        if p["key"] is not None:  # (None: the sender asked for nothing back)
            self.send_node(sender, "fetched", pickle.dumps(reply, protocol=5))

    def on_fetched(self, identity: bytes, env) -> None:
        p = decode.payload(env)
        if self.asks.pop(p["key"], None) is not None:  # else: too late, or not asked
            self.kernel.wake(p["key"], p)

    def ref_action(self, ref, action: str, arg):
        if action in ("get", "set", "delete"):  # by a program here (fetches: remote_action)
            self.access.record(self.kernel.current_context(), ref.id)
        if action == "get":
            try:
                return self.data.read(ref.id)
            except KeyError:
                raise KeyError(f"{ref!r} was deleted") from None
        if action == "set":
            self.data.write(ref.id, arg)
            return None
        if action == "delete":
            self.data.delete(ref.id)
            return None
        if action == "size":
            return self.data.size(ref.id)
        if action == "relocate":
            return self.relocate(ref.id, arg)
        raise ValueError(action)

    def relocate(self, ref_id: str, dest: str) -> None:
        """Move a Ref that lives here to `dest` (in a program's greenlet: it waits for the new
        node's answer). Accesses here wait meanwhile, then follow the forward."""
        if dest == self.name:
            return
        self.store.start_move(ref_id, dest)
        self.data.moving.setdefault(ref_id, [])
        try:
            reply = self._ask(dest, "adopt", ref_id, self.data.blob(ref_id))
            if reply.get("error"):
                raise RuntimeError(f"{dest} refused {ref_id}: {reply['error']}")
            self.data.moved_out(ref_id, dest)
        finally:
            self.data.notify(self.data.moving, ref_id)

    def _ask(self, node: str, action: str, ref_id: str | None, arg) -> dict:
        """Ask `node` to do `action` and park until it answers. No answer within the
        cluster's hop_timeout (the node is down, or the request was lost with a crash)
        raises TimeoutError in the program, which fails with it like a hop that timed out."""
        key = f"fetch-{next(self.ids)}"
        self.send_node(node, "fetch", pickle.dumps(
            {"key": key, "ref": ref_id, "action": action, "arg": arg}, protocol=5))
        self.asks[key] = time.monotonic() + self.config.hop_timeout
        reply = self.kernel.wait(key)
        if reply is NO_ANSWER:
            raise TimeoutError(f"node {node} did not answer ({action} {ref_id or ''}) within "
                               f"{self.config.hop_timeout:g} s (is it down?)")
        return reply

    def expire_asks(self, now: float) -> None:
        """Wake the programs whose question has waited longer than hop_timeout."""
        for key in [k for k, deadline in self.asks.items() if deadline < now]:
            del self.asks[key]
            self.kernel.wake(key, NO_ANSWER)

    def finish_moves(self) -> None:
        """After a restart: relocations that had started are done again (adopting twice is
        harmless: the new node overwrites its copy)."""
        for ref_id, dest in self.store.pending_moves():
            self.data.moving.setdefault(ref_id, [])
            self.kernel.spawn(self.relocate, ref_id, dest)
