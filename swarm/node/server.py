"""The node's I/O shell: ZeroMQ sockets, timers, and what each message does.

One ROUTER socket, bound to the node's endpoint, receives everything: from clients (their
DEALER identity is their client id) and from peers (each node sends to a peer through its own
DEALER connected to that peer's ROUTER, with the node's name as identity). Programs run in
greenlets of the kernel; this loop polls the socket, handles messages, runs the ready
greenlets, and resends hops that were not acknowledged.

Every message passes the gate (swarm/wire/gate.py: signature, sender, replay) before a
handler sees it; refusals are counted and logged (refusals.py). With CURVE keys in the
cluster file the ROUTER is a CURVE server and the loop answers ZAP requests too
(swarm/wire/curve.py); without them the node refuses to listen on anything but loopback.

Run one node: `swarm-node --config cluster.toml --name n1`.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import pickle
import secrets
import sys
import threading
import time
from collections import defaultdict, deque

import zmq
from zmq.utils.monitor import recv_monitor_message

import swarm.skywriting  # noqa: F401 - registers the `.sw` translator with the compiler
from swarm import runtime
from swarm.compiler import registry
from swarm.continuation import codec
from swarm.continuation.capture import Capture, check_root
from swarm.continuation.generators import abandon
from swarm.continuation.primitives import Checkpoint, set_policy
from swarm.continuation.resume import resume
from swarm.futures import TASK_SOURCE
from swarm.node import autoplace
from swarm.node import program as programs
from swarm.node.access import AccessStats
from swarm.node.config import ClusterConfig, ConfigError
from swarm.node.data import RefData
from swarm.node.kernel import Kernel
from swarm.node.ledger import HopLedger
from swarm.node.modules import ProgramModules
from swarm.node.refserve import RefService
from swarm.node.refusals import Refusals, handshake_failure
from swarm.node.store import Store
from swarm.node.tasks import TASK_HASH, TaskService
from swarm.refs import CreateRef, RefAccess
from swarm.wire import curve, decode
from swarm.wire.envelope import Signer, WireError
from swarm.wire.gate import Gate, now_ms

log = logging.getLogger("swarm.node")

RESEND_SECONDS = 1.0
CLIENT_KEEP_SECONDS = 300.0  # how long output waits for a client that is not connected
KEPT_SECONDS = 7 * 24 * 3600.0  # how long programs' output and results are kept (collect?)
HANDSHAKE_FAILURES = zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL


class Node(RefService, TaskService):
    def __init__(self, config: ClusterConfig, name: str) -> None:
        if name not in config.nodes:
            raise ConfigError(f"node {name!r} is not in {config.path} ({config.names})")
        self.config, self.name = config, name
        spec = config.nodes[name]
        if not config.curve and not curve.is_loopback(spec.endpoint):
            raise ConfigError(
                f"node {name}: refusing to listen on {spec.endpoint} without CURVE keys: "
                f"anyone who can reach it could read the programs and data it is sent. "
                f"`swarm keys --cluster {config.path}` adds keys to the cluster file (copy it "
                f"to every machine again), or give the node a loopback endpoint")
        os.makedirs(spec.dir, mode=0o700, exist_ok=True)  # Refs and programs: ours only
        self.store = Store(os.path.join(spec.dir, "store.sqlite"))
        # before the bind: nothing is received before the gate knows its cutoff
        self.gate = Gate(config.secret, config.names, config.max_message_bytes,
                         config.replay_window, self.store.start_replay_guard(now_ms()))
        self.signer = Signer(config.secret, name)
        self.refusals = Refusals()
        self.kernel = Kernel()
        self.ctx = zmq.Context()
        # the ZAP handler is bound before the ROUTER: no handshake goes unchecked
        self.zap = curve.ZapHandler(self.ctx, config.curve_allowed()) if config.curve else None
        self.router = self.ctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.setsockopt(zmq.MAXMSGSIZE, config.max_message_bytes)
        if config.curve:
            curve.make_server(self.router, spec.public_key, spec.secret_key)
        self.monitor = self.router.get_monitor_socket(HANDSHAKE_FAILURES)
        self.router.bind(spec.endpoint)
        self.peers: dict[str, zmq.Socket] = {}
        # program code by hash: (name, filename, source); kept in the store too
        self.sources: dict[str, tuple[str, str, str]] = self.store.all_sources()
        self.client_backlog: dict[str, deque] = {}  # client -> [(first try, frames)]
        self.asking: dict[str, list] = {}  # source hash -> waiters, while it is asked for
        self.asks: dict[str, float] = {}  # fetch key -> when it times out (refserve._ask)
        self.peer_backlog: dict[str, deque] = {}  # peer -> frames its queue did not take yet
        self.boot = secrets.token_hex(4)
        self.ids = itertools.count(1)
        self.running = True
        self.stats = defaultdict(int)
        self.data = RefData(self.store)
        self.ledger = HopLedger(self.store, self.data)
        self.held: list[tuple] = []  # (peer or None, client or None, frames): see commit()
        self.modules = ProgramModules(self)
        self.access = AccessStats()
        self.turn = itertools.count(config.names.index(name) + 1)  # task placement ties
        self.threads: list = []  # (thread, key, box) of run_in_thread, while they run
        self.peer_load: dict[str, tuple] = {}  # peer -> (runnable programs, when we heard)
        self.sources[TASK_HASH] = ("__swarm_task__", "<swarm task>", TASK_SOURCE)
        registry.source_provider = self.source_of
        runtime.set_node(self)
        set_policy(self._checkpoint_policy)

    def _checkpoint_policy(self, op) -> bool:
        """checkpoint() captures only programs submitted with hop_checkpoints."""
        prog = self.kernel.current_context()
        return prog is not None and prog.hop_checkpoints and len(self.config.names) > 1

    # ---- loop -------------------------------------------------------------------------------
    def serve(self) -> None:
        self.modules.install()
        sys.stdout = programs.ProgramOutput(self.kernel, sys.__stdout__)
        self.store.forget_kept(time.time() - KEPT_SECONDS)
        for hop_id, _program, meta, data in self.store.pending_hops():  # after a crash
            meta = pickle.loads(meta)  # our own bytes, from our own store
            if meta.get("submit"):
                self._start_submitted(meta, hop_id, again=True)
            else:
                self._resume(meta, data, hop_id, again=True)
        self.finish_moves()
        next_resend = time.monotonic() + RESEND_SECONDS
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        if self.zap is not None:  # a CURVE handshake waits for its answer
            poller.register(self.zap.sock, zmq.POLLIN)
        ledger = self.ledger
        while self.running:
            timeout = 0 if self.kernel.ready or self.held else 1 if ledger.pending_since \
                or ledger.owed else 2 if self.threads else 10 if self.peer_backlog \
                or self.client_backlog else 100
            events = poller.poll(timeout)
            if events:
                self.receive_all()
                if len(events) > 1 or events[0][0] is not self.router:
                    self.answer_zap()
            if self.threads:
                self.wake_finished_threads()
            self.kernel.run_ready()
            now = time.monotonic()
            if self.held or ledger.due(now):  # after the hops of the round were sent
                self.commit()
            if ledger.overdue(now):
                self.send_acks()
            if self.peer_backlog:
                self.flush_peers()
            if self.client_backlog:
                self.retry_clients()
            if now >= next_resend:
                self.resend_unacked()
                self.expire_asks(now)
                self.note_failed_handshakes()  # here, not polled: a hop pays nothing for it
                self.refusals.tick()
                next_resend = time.monotonic() + RESEND_SECONDS
        self.close()

    def close(self) -> None:
        self.note_failed_handshakes()
        self.refusals.flush()
        self.commit()
        self.send_acks()
        for s in self.peers.values():
            s.close(0)
        self.router.disable_monitor()
        self.monitor.close(0)
        if self.zap is not None:
            self.zap.close()
        self.router.close(0)
        self.ctx.term()
        # a clean stop: what the gate took is known; after a restart it refuses all older
        self.store.stop_replay_guard(max(now_ms(), self.gate.replays.latest_ms))
        self.store.close()

    def receive_all(self) -> None:
        while True:
            try:
                frames = self.router.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self.receive(frames)

    def receive(self, frames: list[bytes]) -> None:
        identity, frames = frames[0], frames[1:]
        try:
            env = self.gate.admit(identity, frames)
        except WireError as e:  # nothing in it was unpickled
            self.refusals.note(e.reason, f"a message on connection {identity[:32]!r}: {e}")
            return
        handler = getattr(self, "on_" + env.kind.replace("?", "_q"), None)
        if handler is None:
            self.refusals.note("not for nodes", f"{env.kind} from {env.sender}: a node has "
                               f"no use for it")
            return
        try:
            handler(identity, env)
        except WireError as e:  # a signed payload that is malformed (decode.py)
            self.refusals.note(e.reason, str(e))
        except Exception as e:  # one this node could not handle: refused, the node goes on
            self.refusals.note("handler error", f"{env.kind} from {env.sender}: "
                               f"{type(e).__name__}: {e}", exc_info=True)

    def answer_zap(self) -> None:
        """Answer the ZAP requests of CURVE handshakes (the keys it lets in: curve.py)."""
        for refusal in self.zap.answer_all():
            self.refusals.note("unknown key", refusal)

    def note_failed_handshakes(self) -> None:
        """Connections that failed ZeroMQ's handshake (a client without CURVE, a wrong
        server key, garbage), from the ROUTER's monitor."""
        while True:
            try:
                event = recv_monitor_message(self.monitor, zmq.NOBLOCK)
            except zmq.Again:
                return
            sort, what = handshake_failure(event)
            self.refusals.note("handshake failed", what, sort)

    # ---- sending ----------------------------------------------------------------------------
    def _frames(self, kind: str, body: bytes) -> list[bytes]:
        return self.signer.pack(kind, body)

    def commit(self) -> None:
        """Write the ledger (the hops and the Ref writes since the last write, in one
        transaction), then send what waited for it. While a Ref write is not committed,
        nothing leaves the node - a hop, a reply, a result may show that write - so a crash
        loses the write and everything that could have shown it, or nothing: a program
        segment that runs again after a crash (its hop was not acknowledged) takes effect
        once."""
        self.ledger.write()
        held, self.held = self.held, []
        for node, client, frames in held:
            if node is not None:
                self._send_peer(node, frames)
            else:
                self._to_client(client, frames)
        for client, program in self.ledger.take_confirmed():
            self.send_client(client, "accepted", {"program": program})

    def send_node(self, node: str, kind: str, body: bytes, resend: bool = False) -> None:
        """Send to a peer (after the commit of any Ref write not yet written: see commit).
        `resend`: a hop resent from the outbox (see _send_peer)."""
        frames = self._frames(kind, body)
        if self.data.staged or self.held:
            self.held.append((node, None, frames))
        else:
            self._send_peer(node, frames, resend)

    def _send_peer(self, node: str, frames: list[bytes], resend: bool = False) -> None:
        """Send, never waiting: what the peer's queue does not take now waits here, in
        order, for the next rounds of the loop (flush_peers). `resend`: dropped instead if
        the peer's queue is full (the next resend is a second away), so a peer that is down
        costs one copy of each message, not one per resend.

        Discussion: a node must never block on a peer. Two nodes each sending thousands of
        messages to the other (each spawning tasks placed on the other) would each wait for
        the other to read, and neither reads while it waits: both hang for ever
        (tests/test_load.py)."""
        sock = self.peers.get(node)
        if sock is None:
            sock = self.peers[node] = self.ctx.socket(zmq.DEALER)
            sock.setsockopt(zmq.IDENTITY, self.name.encode())
            sock.setsockopt(zmq.LINGER, 1000)
            if self.config.curve:
                me = self.config.nodes[self.name]
                curve.make_client(sock, me.public_key, me.secret_key,
                                  self.config.nodes[node].public_key)
            sock.connect(self.config.nodes[node].endpoint)
        queue = self.peer_backlog.get(node)
        if queue is None:
            try:
                sock.send_multipart(frames, zmq.NOBLOCK)
                return
            except zmq.Again:
                queue = self.peer_backlog[node] = deque()
        if not resend:
            queue.append(frames)

    def flush_peers(self) -> None:
        """Send what waits for peers whose queue was full, as far as they take it now."""
        for node, queue in list(self.peer_backlog.items()):
            sock = self.peers[node]
            try:
                while queue:
                    sock.send_multipart(queue[0], zmq.NOBLOCK)
                    queue.popleft()
            except zmq.Again:
                continue
            del self.peer_backlog[node]

    def send_client(self, client: str, kind: str, payload: dict) -> None:
        self.send_client_body(client, kind, pickle.dumps(payload, protocol=5))

    def send_client_body(self, client: str, kind: str, body: bytes) -> None:
        """send_client with the payload pickled already (kept output is sent as stored)."""
        frames = [client.encode()] + self._frames(kind, body)
        if self.data.staged or self.held:
            self.held.append((None, client, frames))
        else:
            self._to_client(client, frames)

    def _to_client(self, client: str, frames: list[bytes]) -> None:
        if self.client_backlog.get(client) or not self._try_send(frames):
            # not connected (yet, or any more: a node that just restarted, a client that is
            # reconnecting), or not reading as fast as it is sent to: keep it, in order, and
            # retry at the next rounds of the loop
            self.client_backlog.setdefault(client, deque()).append((time.monotonic(), frames))

    def _try_send(self, frames: list[bytes]) -> bool:
        """Discussion: never wait for a client. With ROUTER_MANDATORY, a send to a client whose
        queue is full blocks until it reads; a client that submitted thousands of programs
        and does not read yet would stop the node for everyone (tests/test_load.py)."""
        try:
            self.router.send_multipart(frames, zmq.NOBLOCK)
            return True
        except zmq.ZMQError:
            return False

    def retry_clients(self) -> None:
        now = time.monotonic()
        for client, queue in list(self.client_backlog.items()):
            while queue and self._try_send(queue[0][1]):
                queue.popleft()
            while queue and now - queue[0][0] > CLIENT_KEEP_SECONDS:
                log.warning("dropped a message for client %s: unreachable", client)
                queue.popleft()
            if not queue:
                del self.client_backlog[client]

    # ---- handlers ---------------------------------------------------------------------------
    def on_hello(self, identity: bytes, env) -> None:
        self.send_client(identity.decode(), "pong", {"node": self.name})

    def on_ping(self, identity: bytes, env) -> None:
        self.send_client(identity.decode(), "pong", {"node": self.name})

    def on_stop(self, identity: bytes, env) -> None:
        self.running = False

    def on_status_q(self, identity: bytes, env) -> None:
        refs, size = self.store.stats()
        self.send_client(identity.decode(), "status", {
            "node": self.name, "refs": refs, "bytes": size,
            "running": len(self.kernel.context), "parked": len(self.kernel.parked),
            "hops_in": self.stats["hops_in"], "hops_out": self.stats["hops_out"],
            "fetches": self.stats["fetches"], "fallbacks": self.stats["fallbacks"],
            "refused": self.refusals.total, "refusals": dict(self.refusals.counts),
            "resent": self.stats["resent"],
            "sources_sent": self.stats["sources_sent"],  # answers to source? (by hash)
            "awaiting": sum(map(len, self.data.awaiting.values()))})  # futures waited on

    def on_stats_q(self, identity: bytes, env) -> None:
        """The placer's report: this node's Refs and their sizes, and the access edges."""
        self.send_client(identity.decode(), "stats",
                         self.access.report(self.name, self.store.ref_sizes()))

    def on_submit(self, identity: bytes, env) -> None:
        """A client's program. Taken like a hop whose id the program id gives: written with
        the ledger's next write, then confirmed to the client ("accepted"), which sends it
        again, marked `again`, until then; a submission seen before is only confirmed again
        (looked for in the store only when marked: the first sending costs no lookup)."""
        p = decode.payload(env)
        client = identity.decode()
        hop_id = programs.submit_id(p["program"])
        if self.ledger.seen(hop_id, again=bool(p.get("again"))):
            self.ledger.confirm.append((client, p["program"]))
            return
        self.add_sources(p["sources"])
        meta = {"submit": True, "program": p["program"], "client": client,
                "entry": p["entry"], "modules": p["modules"], "argv": p.get("argv", []),
                "hop_checkpoints": p.get("hop_checkpoints", False),
                "policy": p.get("policy", "migrate"), "strict": p.get("strict", False),
                "trace": p.get("trace", False),
                "record_access": p.get("record_access", True)}
        self.ledger.accepting[hop_id] = (p["program"], pickle.dumps(meta, protocol=5), b"")
        self.ledger.confirm.append((client, p["program"]))
        # a submission sent again may have run here before a crash: its hops say so
        self._start_submitted(meta, hop_id, again=bool(p.get("again")))

    def _start_submitted(self, meta: dict, hop_id: str, again: bool = False) -> None:
        prog = programs.Program(meta["program"], meta["client"], meta["modules"],
                                meta["argv"], meta["hop_checkpoints"], meta["policy"],
                                meta["strict"], hop_id=hop_id, trace=meta["trace"],
                                again=again, record_access=meta["record_access"])
        entry = meta["entry"]

        def start():
            module = registry.new_module_instance("__main__", entry)
            module.__dict__["__file__"] = self.sources[entry][1]
            exec(module.__dict__["__swarm_compiled__"].code, module.__dict__)
            return module

        self.kernel.spawn(programs.run, self, prog, start, context=prog)

    def on_collect_q(self, identity: bytes, env) -> None:
        """A client asks for what a program (and its tasks) printed and returned here: the
        messages kept for it (`kept`), sent again."""
        client = identity.decode()
        for program in decode.payload(env)["programs"]:
            for kind, body in self.store.kept_for(program):
                self.send_client_body(client, kind, body)

    def on_hop(self, identity: bytes, env) -> None:
        meta, meta_bytes, extra, data = decode.hop_payload(env)
        self.ledger.acked.extend(extra.get("acks", ()))
        self.peer_load[env.sender] = (extra.get("load", 0), time.monotonic())
        hop_id = meta["hop_id"]
        # acknowledged once written (ledger.py): with a hop to the sender, or on its own
        self.ledger.received(env.sender, hop_id)
        again = bool(extra.get("again"))
        if self.ledger.seen(hop_id, again):
            return  # a resend of a hop taken already
        self.take(meta, meta_bytes, data, again)

    def take(self, meta: dict, meta_bytes: bytes, data: bytes, again: bool = False) -> None:
        """Run a hop that arrived (written with the ledger's next write, before its ack)."""
        self.ledger.accepting[meta["hop_id"]] = (meta["program"], meta_bytes, data)
        self.stats["hops_in"] += 1
        if meta.get("trace") and meta.get("why"):
            why, source, size, t0 = meta["why"]
            self.send_client(meta["client"], "trace", {
                "program": meta["program"], "from": source, "to": self.name, "why": why,
                "bytes": size, "us": round((time.time() - t0) * 1e6), "at": t0})
        self._resume(meta, data, meta["hop_id"], again)

    def on_ack(self, identity: bytes, env) -> None:
        # deleted from the outbox with the next write
        self.ledger.acked.extend(decode.payload(env)["hop_ids"])

    def send_acks(self) -> None:
        """The acks no hop took along."""
        for peer, hop_ids in self.ledger.take_owed().items():
            self.send_node(peer, "ack", pickle.dumps({"hop_ids": hop_ids}, protocol=5))

    def _resume(self, meta: dict, data: bytes, hop_id: str, again: bool = False) -> None:
        prog = programs.Program.from_meta(meta, hop_id, again)
        prog.hop_bytes = len(data)
        missing = [h for h in meta.get("needs", ()) if h not in self.sources]

        def start():
            self.fetch_sources(missing, meta.get("from"))
            if meta.get("start"):  # a task's first hop: (function, args, kwargs, future)
                return self._start_task(data)
            cont = decode.continuation(data)
            module = cont.frames[0].module
            resume(cont)
            return module

        self.kernel.spawn(programs.run, self, prog, start, context=prog)

    def fetch_sources(self, hashes: list[str], peer: str | None) -> None:
        """Ask the node a hop came from for program sources this node has never seen (by
        content hash); the program waits for them, and they are kept in the store. A source
        asked for already is not asked again: the program waits for that answer (10,000
        tasks that arrive together ask once, not 10,000 times)."""
        for digest in hashes:
            while digest not in self.sources:
                if digest in self.asking:
                    self.kernel.wait_on(self.asking[digest])
                    continue
                if peer is None or peer not in self.config.nodes:
                    raise LookupError(f"the source {digest[:12]} is not on {self.name}")
                key = f"source-{next(self.ids)}"
                self.asking[digest] = []
                try:
                    self.send_node(peer, "source?", pickle.dumps({"key": key, "hash": digest}))
                    entry = self.kernel.wait(key).get("source")
                    if entry is None or registry.source_hash(entry[2]) != digest:
                        raise LookupError(f"{peer} has no source {digest[:12]} either")
                    self.add_sources({digest: tuple(entry)})
                finally:  # those waiting for it look again (and ask, if it did not come)
                    self.data.notify(self.asking, digest)

    def on_source_q(self, identity: bytes, env) -> None:
        p = decode.payload(env)
        self.stats["sources_sent"] += 1
        self.send_node(env.sender, "source", pickle.dumps(
            {"key": p["key"], "source": self.sources.get(p["hash"])}))

    def on_source(self, identity: bytes, env) -> None:
        p = decode.payload(env)
        self.kernel.wake(p["key"], p)

    def add_sources(self, sources: dict) -> None:
        new = {h: v for h, v in sources.items() if h not in self.sources}
        if new:
            self.store.add_sources(new)
            self.sources.update(new)

    # ---- what programs need -----------------------------------------------------------------
    def run_in_thread(self, fn, *args, **kwargs):
        """From a program: run fn(*args, **kwargs) in a thread of its own and park until it returns
        (its value) or raises (the same exception), while the node serves everything else.
        For blocking work that runs no program code - a subprocess, a file read - since the
        program's modules are swapped in and out of sys.modules as greenlets switch."""
        key = ("thread", next(self.ids))
        box: dict = {}

        def work() -> None:
            try:
                box["value"] = fn(*args, **kwargs)
            except BaseException as e:  # handed to the program, which raises it
                box["error"] = e

        thread = threading.Thread(target=work, name=f"swarm-{key[1]}", daemon=True)
        self.threads.append((thread, key, box))
        thread.start()
        self.kernel.wait(key)
        if "error" in box:
            raise box["error"]
        return box["value"]

    def load(self) -> int:
        """Programs running or ready here, and those waiting for a thread's work."""
        return self.kernel.runnable() + len(self.threads)

    def wake_finished_threads(self) -> None:
        running = []
        for thread, key, box in self.threads:
            if thread.is_alive():
                running.append((thread, key, box))
            else:
                self.kernel.wake(key)
        self.threads = running

    def source_of(self, name: str, digest: str) -> tuple[str, str]:
        if digest not in self.sources:
            raise LookupError(f"source of module {name} ({digest[:12]}) is not on {self.name}")
        _, filename, source = self.sources[digest]
        return filename, source

    def flush_output(self, prog: programs.Program) -> None:
        text = prog.out.getvalue()
        if text:
            prog.out.seek(0)
            prog.out.truncate()
            body = self.keep(prog, "output", {"program": prog.id, "seq": prog.seq,
                                              "text": text})
            self.send_client_body(prog.client, "output", body)
            prog.seq += 1

    def keep(self, prog: programs.Program, kind: str, payload: dict) -> bytes:
        """Keep a program's output or result (written with the ledger's next write) for a
        client that asks again (`collect?`): one that was gone meanwhile, or whose message
        was lost with a crash. Returns the payload pickled, as it is sent."""
        body = pickle.dumps(payload, protocol=5)
        self.ledger.kept.append((prog.id, prog.seq, kind, body))
        return body

    def finish(self, prog: programs.Program, value=None, error: str | None = None,
               tb: str = "") -> None:
        if prog.hop_id:
            self.ledger.finished.append(prog.hop_id)
        body = None
        if not prog.task:  # a task's result goes to its future (futures.TASK_SOURCE)
            payload = {"program": prog.id, "seq": prog.seq, "ok": error is None,
                       "error": error, "traceback": tb, "route": prog.route, "value": value}
            try:
                body = self.keep(prog, "result", payload)
            except Exception:  # a value that does not pickle goes as its repr
                body = self.keep(prog, "result", payload | {"value": repr(value)})
        self.commit()  # before the result leaves: it must not be sent twice
        if body is not None:
            self.send_client_body(prog.client, "result", body)
        elif error is not None:  # failed outside TASK_SOURCE's own try: nobody will know
            log.warning("task %s failed: %s", prog.id, error)

    def ship(self, prog: programs.Program, c: Capture) -> None:
        """Send a captured program to the node of its pending operation."""
        cont = c.continuation()
        check_root(c, cont)
        dest = getattr(c.leaf, "destination", None)
        if dest is None and isinstance(c.leaf, Checkpoint):  # hop_checkpoints: the next node
            names = self.config.names
            dest = names[(names.index(self.name) + 1) % len(names)]
        if dest not in self.config.nodes:
            raise ValueError(f"the program wants node {dest!r}, not in the cluster")
        parked: list = []
        carried: dict[str, str] = {}
        data = codec.encode(cont, parked, carried)
        if prog.policy == "auto" and not cont.generators and self._fetch_is_smaller(c.leaf,
                                                                                    len(data)):
            self.stats["auto_fetches"] += 1
            raise programs.FetchInstead()
        abandon(parked)
        meta = prog.meta() | {"hop_id": prog.next_id(), "from": self.name,
                              "needs": [*carried, *prog.modules.values()]}
        if prog.trace:
            meta["why"] = (c.leaf.why, self.name, len(data), prog.captured_at)
        self.send_hop(dest, meta, data, finished=prog.hop_id, again=prog.again, leaving=True)
        self.stats["hops_out"] += 1

    def _fetch_is_smaller(self, op, continuation_bytes: int) -> bool:
        """The auto policy: would fetching move fewer bytes than the continuation? A write
        (or a creation elsewhere) carries its value in the continuation too, so it always
        fetches; a read asks the
        Ref's node for the value's size."""
        if isinstance(op, CreateRef):
            return True
        if not isinstance(op, RefAccess):
            return False
        if op.action != "get":
            return True
        reply = self._ask(op.ref.hint, "size", op.ref.id, None)
        if reply.get("moved_to"):
            op.ref.hint = reply["moved_to"]
            return False  # it moved meanwhile: follow it
        return reply.get("value") is not None and reply["value"] < continuation_bytes

    def send_hop(self, dest: str, meta: dict, data: bytes, finished: str | None = None,
                 again: bool = False, leaving: bool = False) -> None:
        """Send a hop, with the acks `dest` is owed; it is written to the outbox by the
        ledger's next write (ledger.py says why sending first loses nothing). `finished`: the
        hop whose program this continues; `again`: it may have been sent before (see
        HopLedger.seen); `leaving`: the program sending it is the one leaving (not counted
        in the load the hop reports). A hop to this node (a task placed here) is taken at
        once."""
        if finished:
            self.ledger.finished.append(finished)
        meta_bytes = pickle.dumps(meta, protocol=5)
        if dest == self.name:
            if not self.ledger.seen(meta["hop_id"], again):
                self.take(meta, meta_bytes, data, again)
            return
        extra = {"again": True} if again else {}
        load = self.load() - leaving
        if load > 0:  # for the receiver's least_loaded()
            extra["load"] = load
        acks = self.ledger.acks_for(dest)
        if acks:
            extra["acks"] = acks
        self.send_node(dest, "hop", decode.encode_hop(meta_bytes, extra, data))
        self.ledger.outgoing.append((meta["hop_id"], dest, meta_bytes, data))

    def resend_unacked(self) -> None:
        """Resend every unacknowledged hop; fail the program of one that waited too long."""
        now = time.time()
        self.commit()
        for hop_id, dest, meta_bytes, data, sent_at in self.store.unacked():
            if now - sent_at < RESEND_SECONDS:
                continue  # its ack may be on its way (acks wait for a hop to ride on)
            if dest in self.peer_backlog and now - sent_at <= self.config.hop_timeout:
                continue  # its queue is full: resend once the peer has read it
            meta = pickle.loads(meta_bytes)  # our own bytes, from our own store
            if now - sent_at > self.config.hop_timeout:
                self.store.commit_hops({}, acked=[hop_id])  # give it up
                prog = programs.Program.from_meta(meta, None)
                self.finish(prog, error=f"HopTimeout: node {dest} did not accept the program "
                            f"within {self.config.hop_timeout:g} s (is it down?)")
                continue
            self.stats["resent"] += 1
            self.send_node(dest, "hop", decode.encode_hop(meta_bytes, {"again": True}, data),
                           resend=True)

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="swarm-node", description="run one swarm node")
    parser.add_argument("--config", required=True, help="the cluster file (cluster.toml)")
    parser.add_argument("--name", required=True, help="this node's name in the cluster file")
    parser.add_argument("--auto-place", type=float, metavar="SECONDS",
                        help="run `swarm place` every SECONDS from this node (default: the "
                             "cluster file's auto_place, which only its first node acts on)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"%(asctime)s {args.name} %(levelname)s %(message)s")
    try:
        config = ClusterConfig.load(args.config)
        node = Node(config, args.name)
    except ConfigError as e:
        print(f"swarm-node: {e}", file=sys.stderr)
        return 2
    seconds = args.auto_place if args.auto_place is not None else \
        config.auto_place if args.name == config.names[0] else 0
    if seconds < 0:
        parser.error(f"--auto-place takes a number of seconds >= 0, not {seconds:g}")
    if seconds:
        autoplace.log.setLevel(logging.INFO)
        autoplace.start(config.path, seconds)
    node.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
