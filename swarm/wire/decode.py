"""The only module that turns network bytes into objects - after the envelope's signature was
checked (see envelope.unpack). Anything that fails here is answered as a typed error."""

from __future__ import annotations

import pickle

from swarm.continuation import codec
from swarm.wire.envelope import Envelope, Malformed


def payload(env: Envelope) -> dict:
    """The pickled dict body of a verified envelope."""
    try:
        value = pickle.loads(env.body)
    except Exception as e:  # a signed but malformed body: refuse it, keep serving
        raise Malformed(f"{env.kind} from {env.sender}: undecodable body ({e})") from None
    if not isinstance(value, dict):
        raise Malformed(f"{env.kind} from {env.sender}: body is not a dict")
    return value


def hop_payload(env: Envelope) -> tuple[dict, bytes, dict, bytes]:
    """A hop's body: the meta dict (and its bytes, which the receiver stores as they came),
    the extras ({"acks": hops of ours the sender wrote, "again": it may have been sent
    before - a resend, or the hop of a program running its segment again}), then the
    continuation bytes (decoded later, by `continuation`, once the modules' sources are at
    hand)."""
    try:
        body = memoryview(env.body)
        meta_len = int.from_bytes(body[:4], "big")
        meta_bytes = bytes(body[4:4 + meta_len])
        at = 4 + meta_len
        extra_len = int.from_bytes(body[at:at + 4], "big")
        meta = pickle.loads(meta_bytes)
        extra = pickle.loads(body[at + 4:at + 4 + extra_len]) if extra_len else {}
        if not isinstance(meta, dict) or not isinstance(extra, dict):
            raise TypeError("meta and extras must be dicts")
    except Exception as e:
        raise Malformed(f"hop from {env.sender}: undecodable meta ({e})") from None
    return meta, meta_bytes, extra, bytes(body[at + 4 + extra_len:])


def continuation(data: bytes):
    """Unpickle a continuation that arrived in a verified hop."""
    return codec.decode(data)


def ref_value(blob: bytes):
    """A Ref's value as its node stores it (codec.dumps), fetched in a verified reply."""
    return codec.loads(blob)


def task(data: bytes):
    """A task's (function, args, kwargs, future), from a verified hop."""
    return codec.loads(data)


def encode_hop(meta_bytes: bytes, extra: dict, cont_bytes: bytes) -> bytes:
    e = pickle.dumps(extra, protocol=5) if extra else b""
    return b"".join((len(meta_bytes).to_bytes(4, "big"), meta_bytes,
                     len(e).to_bytes(4, "big"), e, cont_bytes))
