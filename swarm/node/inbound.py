"""Messages into events: what each kind of message from a peer or a client is for the node's
state machine (after the gate - swarm/wire/gate.py - and decoded: swarm/wire/decode.py
checks the fields). The shell (shell.py) hands the event to NodeState.handle.
"""

from __future__ import annotations

import time

from swarm import heap
from swarm.node import machine as m
from swarm.node.machine.ids import VALUE
from swarm.node.machine.instructions import TO_SELF
from swarm.wire import control, decode


def _client(kind):
    def make(env, identity):
        decode.payload(env)  # (checked like any other, though it carries nothing)
        return m.ClientRequest(identity.decode(), kind)
    return make


def _source(env):
    """A module's source, or a large value (its pickle in the frame: VALUE entries)."""
    p = decode.payload(env)
    source = p["source"]
    if source is not None and source[0] == VALUE:
        source = [VALUE, "", bytes(env.blobs[0])] if env.blobs else None
    return m.SourceReceived(env.sender, p["key"], source)


def _fetched(env, identity):
    p = decode.payload(env)
    if env.blobs:
        p["value"] = env.blobs[0]
    return m.FetchAnswered(env.sender, p["key"], p)


def _gc_request(env, identity):
    """A step of a garbage collection cycle; a mark carries the Refs this process's
    programs hold in memory, found now (the machine takes the event in this same step)."""
    p = decode.payload(env)
    memory = heap.live_ref_ids() if p["phase"] == "mark" else []
    return m.GcRequested(identity.decode(), p["cycle"], p["phase"], p.get("ids", []), memory,
                         p.get("nodes", []))


def from_self(name: str, kind: str, fields: dict, blobs: tuple):
    """A message this node sent itself (a question asked of itself, its answer, its
    forget: shell._loop_back), as the event it is - its fields as the wire would bring
    them (tuples as lists) - or None for another kind (not in TO_SELF)."""
    if kind not in TO_SELF:
        return None
    fields = control.decode(control.encode(fields))
    if kind == "fetch":
        return m.FetchRequested(name, fields["key"], fields["action"], fields["ref"], blobs[0],
                                fields.get("op"))
    if kind == "fetched":
        if blobs:
            fields["value"] = blobs[0]
        return m.FetchAnswered(name, fields["key"], fields)
    if kind == "answered":
        return m.AnswersUsed(name, fields["ops"])
    return None


#: message kind -> the event it is (after the gate; decode.py checks the fields)
EVENTS = {
    "submit": lambda env, identity: m.SubmitReceived(identity.decode(), decode.payload(env)),
    "hop": lambda env, identity: m.HopReceived(env.sender, *decode.hop(env), time.time()),
    "ack": lambda env, identity: m.AckReceived(
        env.sender, *(lambda p: (p["hop_ids"], p.get("forget", []), p.get("load", -1)))(
            decode.payload(env))),
    "refused": lambda env, identity: m.RefusedReceived(
        env.sender, *(lambda p: (p["hop_ids"], p["reason"]))(decode.payload(env))),
    "fetch": lambda env, identity: (lambda p: m.FetchRequested(
        env.sender, p["key"], p["action"], p["ref"], env.blobs[0], p.get("op")))(
        decode.payload(env)),
    "answered": lambda env, identity: m.AnswersUsed(env.sender, decode.payload(env)["ops"]),
    "fetched": _fetched,
    "source?": lambda env, identity: m.SourceRequested(
        env.sender, *(lambda p: (p["key"], p["hash"]))(decode.payload(env))),
    "source": lambda env, identity: _source(env),
    "collect?": lambda env, identity: m.CollectRequested(
        identity.decode(), decode.payload(env)["programs"]),
    "programs?": lambda env, identity: m.ProgramsRequested(
        identity.decode(), decode.payload(env).get("programs")),
    "input": lambda env, identity: m.InputReceived(
        identity.decode(), *(lambda p: (p["program"], p["n"], p["text"], p["eof"]))(
            decode.payload(env))),
    "cancel": lambda env, identity: m.CancelRequested(
        identity.decode(), decode.payload(env)["program"]),
    "hops?": lambda env, identity: m.HopsRequested(
        identity.decode(), decode.payload(env).get("after", 0)),
    "gc": lambda env, identity: _gc_request(env, identity),
    "gc-flush": lambda env, identity: m.GcFlushed(env.sender, decode.payload(env)["cycle"]),
    "mirrored": lambda env, identity: m.MirrorAnswered(
        env.sender, *(lambda p: (p["seq"], p["have"], p["gap"], p.get("probe", False),
                                 p.get("behind", False)))(decode.payload(env))),
    "failover": lambda env, identity: m.FailoverReceived(env.sender, decode.payload(env)),
    "fence": lambda env, identity: m.FenceRequested(
        identity.decode(), *(lambda p: (p["node"], p["phase"], p.get("heir")))(
            decode.payload(env))),
    **{kind: _client(kind) for kind in ("hello", "ping", "status?", "stats?", "stop",
                                        "leave", "stay")},
}
