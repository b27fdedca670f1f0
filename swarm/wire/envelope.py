"""Framing and signing. Nothing here unpickles: a refused message is refused as bytes."""

from __future__ import annotations

import functools
import hashlib
import hmac
import struct
from dataclasses import dataclass

from swarm.wire import PROTOCOL
from swarm.wire.kinds import KINDS

#: default cap on one message (all frames); nodes take it from the cluster file
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class WireError(Exception):
    """A message refused before anything in it was unpickled; the node keeps serving."""


class BadVersion(WireError):
    pass


class Malformed(WireError):
    pass


class TooLarge(WireError):
    pass


class BadSignature(WireError):
    pass


@dataclass(frozen=True)
class Envelope:
    kind: str
    sender: str
    msg_id: int
    body: bytes


@functools.lru_cache(maxsize=8)
def _keyed(secret: bytes):
    """HMAC state after the key (copied per message: the key schedule is done once)."""
    return hmac.new(secret, digestmod=hashlib.sha256)


def _mac(secret: bytes, head: bytes, body: bytes) -> bytes:
    mac = _keyed(secret).copy()
    mac.update(head)  # the head's fields carry their lengths; the body is the rest
    mac.update(body)
    return mac.digest()


def pack(secret: bytes, kind: str, sender: str, msg_id: int, body: bytes) -> list[bytes]:
    k, s = kind.encode("ascii"), sender.encode()
    if len(k) > 255 or len(s) > 255:
        raise ValueError("a kind or sender name longer than 255 bytes")
    head = b"".join((PROTOCOL, bytes((len(k),)), k, bytes((len(s),)), s,
                     struct.pack(">Q", msg_id)))
    return [head + _mac(secret, head, body), body]


def unpack(secret: bytes, frames: list[bytes], max_bytes: int = MAX_MESSAGE_BYTES) -> Envelope:
    """Check a received message (identity frame already removed). Raises WireError."""
    size = sum(len(f) for f in frames)
    if size > max_bytes:
        raise TooLarge(f"message of {size} bytes exceeds {max_bytes}")
    if not frames or frames[0][:len(PROTOCOL)] != PROTOCOL:
        raise BadVersion(f"protocol {frames[0][:16] if frames else b''!r}, expected {PROTOCOL!r}")
    if len(frames) != 2:
        raise Malformed(f"expected 2 frames, got {len(frames)}")
    head, body = frames
    if len(head) < len(PROTOCOL) + 2 + 8 + 32:
        raise Malformed(f"head of {len(head)} bytes is too short")
    head, signature = head[:-32], head[-32:]
    if not hmac.compare_digest(_mac(secret, head, body), signature):
        raise BadSignature("signature does not match the cluster secret")
    try:
        at = len(PROTOCOL)
        kind = head[at + 1:at + 1 + head[at]].decode("ascii")
        at += 1 + head[at]
        sender = head[at + 1:at + 1 + head[at]].decode()
        at += 1 + head[at]
        (msg_id,) = struct.unpack(">Q", head[at:])
    except (UnicodeDecodeError, struct.error, IndexError) as e:
        raise Malformed(f"bad head: {e}") from None
    if kind not in KINDS:
        raise Malformed(f"unknown message kind {kind!r}")
    return Envelope(kind, sender, msg_id, body)
