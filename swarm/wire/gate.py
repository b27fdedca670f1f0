"""A node's trust boundary: what a message must pass before anything in it is unpickled.

    Gate.admit(identity, frames) -> Envelope, else a WireError (nothing was unpickled):
      1. envelope.unpack: size, protocol, two frames, then the HMAC-SHA256 under the cluster
         secret; only a signed head is parsed
      2. the sender: the signed head must name the connection's own identity (a node's and a
         client's DEALER both set it to their name), and the kinds only nodes send (hop,
         ack, fetch...) come only from the nodes of the cluster file
      3. not a replay (ReplayGuard)
Only then may decode.py unpickle the body. Clients check only the signature (unpack): they
accept nothing from the network but output and results, on connections they opened.

Discussion: the replay defence. Every sender (a node process, a client connection) picks a
random 64-bit boot id when it starts and numbers its messages 1, 2, 3...; every message also
carries its send time (envelope.Signer). A node takes a message only if
  - it was sent within `window` seconds of the node's own clock, either way;
  - it was sent after the node's cutoff: the newest message it had taken when it last
    stopped cleanly, or, after a crash, the moment it started again - a restarted node has
    forgotten which messages it took, so it refuses every message that predates the
    restart rather than take one twice;
  - its number is above the highest taken from that (sender, boot) - ZeroMQ delivers one
    connection's messages in order, and a sender talks to a node over one connection.
The state is one entry per (sender, boot) heard from within the window; an entry is dropped
once its newest message is older than the window, since every message it stood for is then
stale anyway. A replayed message is refused before anything in it is unpickled, whatever it
carries: a program's submission, a hop, a stop. The price is that messages queued for a node
while it was down are refused when it comes back (hops are resent anyway; see docs/security.md).

Discussion: a peer that reconnects. A node's ROUTER lets a peer's new connection take over
its identity (ROUTER_HANDOVER, node/links.py) and renames the old one with an id ZeroMQ
makes (a zero byte and four more: no peer may choose one that starts with a zero byte). What
the old connection received and the node had not read yet still comes out, under that id,
interleaved with what comes on the new one. It is refused (ReplacedConnection) - taken, it
would break the order the replay guard and chunk streams count on - as a connection that
closed loses what it held: whatever must arrive is sent again by its sender.
"""

from __future__ import annotations

import time

from swarm.wire.envelope import (
    MAX_MESSAGE_BYTES,
    Envelope,
    ReplacedConnection,
    Replayed,
    Stale,
    UnknownSender,
    unpack,
)
from swarm.wire.kinds import NODE_KINDS

REPLAY_WINDOW = 300.0  # seconds; the cluster file's replay_window


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class ReplayGuard:
    """Which (sender, boot, seq) were taken; see the module's Discussion."""

    def __init__(self, window: float = REPLAY_WINDOW, cutoff_ms: int = 0) -> None:
        self.window_ms = int(window * 1000)
        self.cutoff_ms = cutoff_ms  # refuse anything sent before (restarts, see above)
        self.latest_ms = cutoff_ms  # the newest send time taken: the next cutoff, on stop
        self.seen: dict[tuple[str, int], tuple[int, int]] = {}  # -> (seq, newest sent)
        self._next_sweep = 0

    def check(self, env: Envelope, now: int | None = None) -> None:
        """Take the message, or raise Replayed or Stale."""
        now = now_ms() if now is None else now
        sent = env.sent_ms
        if sent <= self.cutoff_ms:
            raise Replayed(f"{env.kind} from {env.sender}: sent {(self.cutoff_ms - sent) / 1e3:.3f}"
                           f" s before this node's last stop or restart (a replay, or queued "
                           f"while the node was down)")
        if abs(now - sent) > self.window_ms:
            when = f"{(now - sent) / 1e3:.1f} s ago" if sent < now else \
                f"{(sent - now) / 1e3:.1f} s ahead of this node's clock"
            raise Stale(f"{env.kind} from {env.sender}: sent {when}, outside the replay window "
                        f"of {self.window_ms / 1e3:g} s (are the clocks in step?)")
        key = (env.sender, env.boot)
        last = self.seen.get(key)
        if last is not None and env.seq <= last[0]:
            raise Replayed(f"{env.kind} from {env.sender}: message {env.seq} of boot "
                           f"{env.boot:016x} was taken already (newest {last[0]})")
        self.seen[key] = (env.seq, sent if last is None or sent > last[1] else last[1])
        if sent > self.latest_ms:
            self.latest_ms = sent
        if now >= self._next_sweep:
            self.sweep(now)

    def sweep(self, now: int) -> None:
        """Forget the senders not heard from within the window."""
        old = now - self.window_ms
        self.seen = {k: v for k, v in self.seen.items() if v[1] >= old}
        self._next_sweep = now + self.window_ms // 4


class Gate:
    """A node's gate: `admit` returns the Envelope of a message the node may take, or raises
    the WireError that says why not (see the module's docstring)."""

    def __init__(self, secret: bytes, nodes, max_bytes: int = MAX_MESSAGE_BYTES,
                 window: float = REPLAY_WINDOW, cutoff_ms: int = 0) -> None:
        self.secret, self.max_bytes = secret, max_bytes
        self.nodes = frozenset(nodes)
        self.replays = ReplayGuard(window, cutoff_ms)

    def admit(self, identity: bytes, frames: list[bytes]) -> Envelope:
        env = unpack(self.secret, frames, self.max_bytes)
        if identity != env.sender.encode():
            if len(identity) == 5 and identity[0] == 0:  # (see the module's Discussion)
                raise ReplacedConnection(
                    f"{env.kind} {env.seq} from {env.sender}: it was waiting unread on a "
                    f"connection {env.sender} has replaced since (it reconnected; ZeroMQ "
                    f"gives the old connection the id {identity!r}): dropped, as if that "
                    f"connection had lost it - its sender sends again what must arrive")
            raise UnknownSender(f"{env.kind} signed by {env.sender!r} came on the connection of "
                                f"{identity[:32]!r}")
        if env.kind in NODE_KINDS and env.sender not in self.nodes:
            raise UnknownSender(f"{env.kind} from {env.sender!r}, which is not a node of this "
                                f"cluster ({', '.join(sorted(self.nodes))})")
        self.replays.check(env)
        return env
