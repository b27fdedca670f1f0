"""A node's sockets: the ROUTER it listens on, a DEALER per peer, and what waits for a peer
or a client that does not read yet.

One ROUTER socket, bound to the node's endpoint, receives everything: from clients (their
DEALER identity is their client id) and from peers (each node sends to a peer through its own
DEALER connected to that peer's ROUTER, with the node's name as identity). With CURVE keys
in the cluster file the ROUTER is a CURVE server and the ZAP handler answers its handshakes
(swarm/wire/curve.py); failed handshakes are read from the ROUTER's monitor.

Discussion: a node must never block on a peer or a client. Two nodes each sending thousands
of messages to the other (each spawning tasks placed on the other) would each wait for the
other to read, and neither reads while it waits: both hang for ever; a client that submitted
thousands of programs and does not read yet would stop the node for everyone
(tests/test_load.py). Every send is non-blocking; what a queue does not take waits here, in
order, and goes in later rounds of the loop.
"""

from __future__ import annotations

import logging
import time
from collections import deque

import zmq
from zmq.utils.monitor import recv_monitor_message

from swarm.node.refusals import handshake_failure
from swarm.wire import PROTOCOL, curve
from swarm.wire.liveness import keep_alive

log = logging.getLogger("swarm.node")

CLIENT_KEEP_SECONDS = 300.0  # how long output waits for a client that is not connected
HANDSHAKE_FAILURES = zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
_CHUNK_HEAD = PROTOCOL + b"\x05chunk"  # how the head of a chunk (swarm/wire/chunks.py) begins


_NOBLOCK, _NOBLOCK_MORE = int(zmq.NOBLOCK), int(zmq.NOBLOCK | zmq.SNDMORE)


def send_now(sock: zmq.Socket, frames: list) -> None:
    """sock.send_multipart(frames, zmq.NOBLOCK), for a third of its cost: flags as plain
    ints (pyzmq's loop combines enum flags for every frame, about 2 us each). Raises
    zmq.Again, with nothing sent, if the queue is full: ZeroMQ takes every frame of a
    message once it took the first."""
    send, last = sock.send, len(frames) - 1
    for i, frame in enumerate(frames):
        send(frame, _NOBLOCK_MORE if i < last else _NOBLOCK)


class Links:
    def __init__(self, config, name: str, wakeup_fd: int) -> None:
        self.config, self.name = config, name
        self.readable = True  # the last poll saw a message wait on the ROUTER (receive)
        spec = config.nodes[name]
        self.ctx = zmq.Context()
        # the ZAP handler is bound before the ROUTER: no handshake goes unchecked
        self.zap = curve.ZapHandler(self.ctx, config.curve_allowed()) if config.curve else None
        self.router = keep_alive(self.ctx.socket(zmq.ROUTER))
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        # a peer or client that reconnects (its old connection not yet timed out) takes over
        # its identity, rather than being refused until the old one is closed
        self.router.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.setsockopt(zmq.MAXMSGSIZE, config.max_message_bytes)
        if config.curve:
            curve.make_server(self.router, spec.public_key, spec.secret_key)
        self.monitor = self.router.get_monitor_socket(HANDSHAKE_FAILURES)
        self.router.bind(spec.endpoint)
        self.peers: dict[str, zmq.Socket] = {}
        self.unknown: set[str] = set()  # nodes messages were dropped for (said once each)
        self.peer_backlog: dict[str, deque] = {}  # peer -> frames its queue did not take yet
        self.client_backlog: dict[str, deque] = {}  # client -> [(first try, frames)]
        self.poller = zmq.Poller()
        self.poller.register(self.router, zmq.POLLIN)
        self.poller.register(wakeup_fd, zmq.POLLIN)  # threads' work done (kernel.py)
        if self.zap is not None:  # a CURVE handshake waits for its answer
            self.poller.register(self.zap.sock, zmq.POLLIN)

    def poll(self, timeout_ms: int) -> bool:
        """Wait up to timeout_ms for anything; whether the ZAP socket has requests."""
        events = self.poller.poll(timeout_ms)
        router = self.router
        self.readable = any(s is router for s, _ in events)
        return self.zap is not None and any(s is self.zap.sock for s, _ in events)

    def receive(self):
        """The messages waiting on the ROUTER: (identity, frames) each.

        Discussion: frames are copied out of ZeroMQ's messages into bytes (pyzmq's copy=True)
        - for small messages that is cheaper than keeping the messages (copy=False costs
        about 15 us more per message) - except the slices that chunks carry: those are read
        as views of ZeroMQ's own memory and copied once, into the message they belong to
        (chunks.py)."""
        if not self.readable:  # (the poll just made said no message waits: zmq_poll looks at
            return  # ZMQ_EVENTS itself, so one that came since is seen by the next poll, at
            # once - no recv that raises zmq.Again, 10-20 us, on a loop turn for nothing)
        self.readable = False
        router = self.router
        more, RCVMORE = router.get, zmq.RCVMORE  # (`router.rcvmore` costs ~5 us a frame)
        # (asking ZMQ_EVENTS after each message whether another waits - 3 us, against 6.5 us
        # for a recv that raises zmq.Again - was tried twice: tests/test_full_disk.py, with 80
        # hops arriving together at a node just resumed from SIGSTOP, failed with it - n2 took
        # none of them (session 14), n2 did not answer status? (session 18) - in some runs;
        # that test fails now and then without it too (0 of 90 writers done, base and branch
        # alike), so not understood; left out)
        while True:
            try:
                identity = router.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            frames = []
            copy = True
            while more(RCVMORE):
                if copy:
                    frames.append(router.recv())
                    if len(frames) == 2 and frames[0].startswith(_CHUNK_HEAD):
                        copy = False  # head and control read: the rest are slices
                else:
                    frames.append(router.recv(copy=False).buffer)
            yield identity, frames

    # ---- peers -----------------------------------------------------------------------------------
    def send_peers(self, node: str, messages: list, resend: bool = False) -> None:
        """Send several messages (a message's chunks) in order (see send_peer)."""
        for frames in messages:
            self.send_peer(node, frames, resend)

    def send_peer(self, node: str, frames: list, resend: bool = False) -> None:
        """Send, never waiting (see the module's Discussion). `resend`: dropped instead if the
        peer's queue is full (the next resend is a second away), so a peer that is down costs
        one copy of each message, not one per resend."""
        sock = self.peers.get(node)
        if sock is None:
            if node not in self.config.nodes:  # (what asked for it was told: asking.ask)
                if node not in self.unknown:
                    self.unknown.add(node)
                    log.error("a message to %r dropped: not a node of this cluster as this "
                              "node knows it (a node added since it started that it was not "
                              "told of? `swarm node add %s` again tells it)", node, node)
                return
            sock = self.peers[node] = self._connect(node)
        queue = self.peer_backlog.get(node)
        if queue is None:
            try:
                send_now(sock, frames)
                return
            except zmq.Again:
                queue = self.peer_backlog[node] = deque()
        if not resend:
            queue.append(frames)

    def _connect(self, node: str) -> zmq.Socket:
        sock = keep_alive(self.ctx.socket(zmq.DEALER))  # (wire/liveness.py)
        sock.setsockopt(zmq.IDENTITY, self.name.encode())
        sock.setsockopt(zmq.LINGER, 1000)
        if self.config.curve:
            me = self.config.nodes[self.name]
            curve.make_client(sock, me.public_key, me.secret_key,
                              self.config.nodes[node].public_key)
        sock.connect(self.config.nodes[node].endpoint)
        return sock

    # ---- clients ---------------------------------------------------------------------------------
    def send_client(self, client: str, frames: list) -> None:
        frames = [client.encode(), *frames]
        if self.client_backlog.get(client) or not self._try_send(frames):
            # not connected (yet, or any more: a node that just restarted, a client that is
            # reconnecting), or not reading as fast as it is sent to: keep it, in order, and
            # retry at the next rounds of the loop
            self.client_backlog.setdefault(client, deque()).append((time.monotonic(), frames))

    def _try_send(self, frames: list) -> bool:
        """(With ROUTER_MANDATORY, a send to a client whose queue is full would block.)"""
        try:
            send_now(self.router, frames)
            return True
        except zmq.ZMQError:
            return False

    # ---- later rounds ----------------------------------------------------------------------------
    def waiting(self) -> bool:
        return bool(self.peer_backlog or self.client_backlog)

    def flush(self) -> None:
        """Send what waits for peers and clients, as far as their queues take it now."""
        for node, queue in list(self.peer_backlog.items()):
            sock = self.peers[node]
            try:
                while queue:
                    send_now(sock, queue[0])
                    queue.popleft()
            except zmq.Again:
                continue
            del self.peer_backlog[node]
        now = time.monotonic()
        for client, queue in list(self.client_backlog.items()):
            while queue and self._try_send(queue[0][1]):
                queue.popleft()
            while queue and now - queue[0][0] > CLIENT_KEEP_SECONDS:
                log.warning("dropped a message for client %s: unreachable", client)
                queue.popleft()
            if not queue:
                del self.client_backlog[client]

    def answer_zap(self) -> list[str]:
        """Answer the ZAP requests of CURVE handshakes; the refusals."""
        return self.zap.answer_all()

    def failed_handshakes(self):
        """(sort, what) of connections that failed ZeroMQ's handshake (a client without
        CURVE, a wrong server key, garbage), from the ROUTER's monitor."""
        while True:
            try:
                event = recv_monitor_message(self.monitor, zmq.NOBLOCK)
            except zmq.Again:
                return
            yield handshake_failure(event)

    def close(self) -> None:
        for s in self.peers.values():
            s.close(0)
        self.router.disable_monitor()
        self.monitor.close(0)
        if self.zap is not None:
            self.zap.close()
        self.router.close(0)
        self.ctx.term()
