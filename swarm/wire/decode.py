"""The only module that turns network bytes into objects - after the envelope's signature was
checked (envelope.unpack) and, on a node, after the gate let it in (gate.py: its sender may
send it, it is not a replay). Anything that fails here is refused as Malformed, naming what
was wrong; the node logs it and keeps serving."""

from __future__ import annotations

import pickle

from swarm.continuation import codec
from swarm.wire.envelope import Envelope, Malformed
from swarm.wire.kinds import HOP_EXTRA, HOP_META, PAYLOADS, problem


def payload(env: Envelope) -> dict:
    """The pickled dict body of a verified envelope, checked against its kind's fields."""
    try:
        value = pickle.loads(env.body)
    except Exception as e:  # a signed but malformed body: refuse it, keep serving
        raise Malformed(f"{env.kind} from {env.sender}: undecodable body ({e})") from None
    wrong = problem(value, PAYLOADS.get(env.kind, ({}, {})))
    if wrong:
        raise Malformed(f"{env.kind} from {env.sender}: {wrong}")
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
        if len(body) < 8 or at + 4 + extra_len > len(body):
            raise ValueError(f"lengths {meta_len} and {extra_len} overrun {len(body)} bytes")
        meta = pickle.loads(meta_bytes)
        extra = pickle.loads(body[at + 4:at + 4 + extra_len]) if extra_len else {}
    except Exception as e:
        raise Malformed(f"hop from {env.sender}: undecodable meta ({e})") from None
    wrong = problem(meta, HOP_META) or problem(extra, HOP_EXTRA)
    if wrong:
        raise Malformed(f"hop from {env.sender}: {wrong}")
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
