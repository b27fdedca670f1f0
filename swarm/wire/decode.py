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


def hop_payload(env: Envelope) -> tuple[dict, bytes]:
    """A hop's body: a pickled meta dict, then the continuation bytes (decoded later, by
    `continuation`, once the modules' sources are at hand)."""
    try:
        meta_len = int.from_bytes(env.body[:4], "big")
        meta = pickle.loads(env.body[4:4 + meta_len])
    except Exception as e:
        raise Malformed(f"hop from {env.sender}: undecodable meta ({e})") from None
    return meta, env.body[4 + meta_len:]


def continuation(data: bytes):
    """Unpickle a continuation that arrived in a verified hop."""
    return codec.decode(data)


def encode_hop(meta: dict, cont_bytes: bytes) -> bytes:
    m = pickle.dumps(meta, protocol=5)
    return len(m).to_bytes(4, "big") + m + cont_bytes
