"""How a connection notices that its peer is gone, and comes back when it returns: the same
settings for every socket that connects (a node's DEALER to each peer, a client's to each node)
and for the ROUTER nodes listen on.

Discussion: without them a link cut silently (a partition: no RST, no ICMP) or a peer that is
paused (SIGSTOP) looks alive to TCP for minutes. Messages pile up in a connection that carries
nothing, and once the path is back, TCP's retransmission backoff and the kernel's SYN retries
(1, 2, 4, 8, 16 s...) make the link wait up to tens of seconds more before it carries anything
(23 s was measured). ZeroMQ's own heartbeats (ZMTP PING/PONG, answered by its I/O thread, so a
node busy in Python still answers) close a connection that has been silent HEARTBEAT_TIMEOUT;
a connect attempt gives up after CONNECT_TIMEOUT instead of waiting out the SYN retries; and
reconnects come every RECONNECT_IVL, at most RECONNECT_IVL_MAX apart. What a closed
connection held is lost, and that is fine: hops are sent again until acknowledged, and a
resend is refused by its receiver if it took the hop already (machine/ledger.py). A healed
link carries messages again within about HEARTBEAT_TIMEOUT + RECONNECT_IVL_MAX (2 s).
"""

from __future__ import annotations

import zmq

HEARTBEAT_IVL_MS = 500  # a PING when the connection has been quiet this long
HEARTBEAT_TIMEOUT_MS = 1500  # no traffic at all for this long: the connection is closed
HEARTBEAT_TTL_MS = 2000  # the peer closes its end after this long without hearing from us
CONNECT_TIMEOUT_MS = 1000  # a connect attempt (the TCP handshake) gives up after this
RECONNECT_IVL_MS, RECONNECT_IVL_MAX_MS = 100, 500
TCP_MAXRT_MS = 3000  # data unacknowledged this long by the peer's kernel: the connection ends


def keep_alive(sock: zmq.Socket) -> zmq.Socket:
    """Set the liveness options on a socket (before it connects or binds).

    Discussion: no limit on what a socket holds received and not yet read (RCVHWM 0).
    With a limit, a reader that falls behind (a client submitting 10,000 programs while
    their answers come back, a node busy while clients submit) fills it; ZeroMQ then stops
    reading that connection, so it no longer sees the peer's heartbeats, closes the
    connection as silent, reconnects - and libzmq 4.3.5 aborts the whole process on a
    stale wake-up of the old connection ("Assertion failed: _input_stopped",
    zeromq/libzmq#3937, fixed by #4830, not released). What is received waits in memory
    instead, and is read in turn: the sender's side is bounded by its own backlogs
    (swarm/node/links.py) and every message by max_message_bytes."""
    sock.setsockopt(zmq.RCVHWM, 0)
    sock.setsockopt(zmq.HEARTBEAT_IVL, HEARTBEAT_IVL_MS)
    sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS)
    sock.setsockopt(zmq.HEARTBEAT_TTL, HEARTBEAT_TTL_MS)
    sock.setsockopt(zmq.CONNECT_TIMEOUT, CONNECT_TIMEOUT_MS)
    sock.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
    sock.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS)
    sock.setsockopt(zmq.TCP_MAXRT, TCP_MAXRT_MS)
    return sock
