"""Framing and signing. Nothing here unpickles: a refused message is refused as bytes."""

from __future__ import annotations

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


def _mac(secret: bytes, frames: list[bytes]) -> bytes:
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    for frame in frames:
        mac.update(struct.pack(">Q", len(frame)))  # lengths too: no shifting bytes between frames
        mac.update(frame)
    return mac.digest()


def pack(secret: bytes, kind: str, sender: str, msg_id: int, body: bytes) -> list[bytes]:
    frames = [PROTOCOL, kind.encode("ascii"), sender.encode(), struct.pack(">Q", msg_id), body]
    frames.append(_mac(secret, frames))
    return frames


def unpack(secret: bytes, frames: list[bytes], max_bytes: int = MAX_MESSAGE_BYTES) -> Envelope:
    """Check a received message (identity frame already removed). Raises WireError."""
    if sum(len(f) for f in frames) > max_bytes:
        raise TooLarge(f"message of {sum(len(f) for f in frames)} bytes exceeds {max_bytes}")
    if len(frames) != 6:
        raise Malformed(f"expected 6 frames, got {len(frames)}")
    if frames[0] != PROTOCOL:
        raise BadVersion(f"protocol {frames[0][:16]!r}, expected {PROTOCOL!r}")
    if not hmac.compare_digest(_mac(secret, frames[:5]), frames[5]):
        raise BadSignature("signature does not match the cluster secret")
    try:
        kind = frames[1].decode("ascii")
        sender = frames[2].decode()
        (msg_id,) = struct.unpack(">Q", frames[3])
    except (UnicodeDecodeError, struct.error) as e:
        raise Malformed(f"bad header frame: {e}") from None
    if kind not in KINDS:
        raise Malformed(f"unknown message kind {kind!r}")
    return Envelope(kind, sender, msg_id, frames[4])
