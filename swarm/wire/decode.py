"""The only module that turns network bytes into objects - after the envelope's signature was
checked (envelope.unpack) and, on a node, after the gate let it in (gate.py: its sender may
send it, it is not a replay).

Two steps, never mixed: a message's control frame is msgpack (plain data, decoded by
`payload`/`hop`, which check every field against kinds.py before a handler sees it); pickled
blobs - continuations, Ref values, arguments - are unpickled only by `continuation`, `value`
and `task`, called by the handler that needs them, once the control data was checked.
Anything that fails here is refused as Malformed, naming what was wrong; the node logs it and
keeps serving. `encode` is the other direction, for every sender (nodes and clients)."""

from __future__ import annotations

from swarm.continuation import codec
from swarm.wire import values
from swarm.wire.control import decode as _control
from swarm.wire.control import encode
from swarm.wire.envelope import Envelope, Malformed
from swarm.wire.kinds import HOP_META, PAYLOADS, problem, submit_problem

__all__ = ["encode", "payload", "hop", "stored_meta", "continuation", "value", "task"]
_NO_SPEC = ({}, {}, (0, 0))


def _unpack(data, what: str):
    try:
        return _control(data)
    except Exception as e:  # a signed but malformed frame: refuse it, keep serving
        raise Malformed(f"{what}: undecodable ({type(e).__name__}: {e})") from None


def payload(env: Envelope) -> dict:
    """The control map of a verified envelope, checked against its kind's fields and its
    number of blobs."""
    spec = PAYLOADS.get(env.kind, _NO_SPEC)
    value = _unpack(env.control, f"{env.kind} from {env.sender}")
    wrong = problem(value, spec)
    if wrong is None and env.kind == "submit":
        wrong = submit_problem(value)
    least, most = spec[2]
    if wrong is None and not least <= len(env.blobs) <= most:
        wrong = f"{len(env.blobs)} blobs, expected {least} to {most}"
    if wrong:
        raise Malformed(f"{env.kind} from {env.sender}: {wrong}")
    return value


def hop(env: Envelope) -> tuple[dict, bytes, dict, bytes]:
    """A hop: its meta (checked against HOP_META) and the meta frame's bytes, which the
    receiver stores as they came; the extras ({"acks": hops of ours the sender wrote, "again":
    it may have been sent before - a resend, or the hop of a program running its segment
    again, "load"}); then the continuation bytes (decoded later, by `continuation`, once the
    modules' sources are at hand)."""
    extra = payload(env)
    meta_bytes, data = bytes(env.blobs[0]), env.blobs[1]
    meta = _unpack(meta_bytes, f"hop from {env.sender}: meta")
    wrong = problem(meta, HOP_META)
    if wrong:
        raise Malformed(f"hop from {env.sender}: {wrong}")
    return meta, meta_bytes, extra, data


def stored_meta(meta_bytes: bytes) -> dict:
    """A hop's meta as the node's own store kept it (msgpack: data, never code)."""
    return _control(meta_bytes)


def continuation(data: bytes, held=None):
    """Unpickle a continuation that arrived in a verified hop. The large values it names by
    hash are taken from `held` (a node's: HeldValues; the hop's `needs` were fetched)."""
    return codec.decode(data, held, None if held is None else held.missing)


def value(blob: bytes):
    """A value encoded by a node (values.encode; or codec.dumps, which it reads too): a Ref's
    stored value, an argument, an answer, from a verified message (or a node's own store).
    Arrays in it are made on the message's own memory (read-only)."""
    return values.decode(blob)


def task(data: bytes):
    """A task's (function, args, kwargs, future), from a verified hop."""
    return codec.loads(data)
