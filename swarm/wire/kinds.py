"""Message kinds, by family, and what their payloads must hold.

Payloads are pickled dicts of plain values (body of the envelope); a b"hop" body is meta +
extras + an encoded continuation (swarm.continuation.codec). decode.py checks every payload
against PAYLOADS (and a hop's meta against HOP_META) before a handler sees it: a signed
message with a missing or mistyped field is refused as malformed, with the field named.

Programs (client <-> node):
    submit   client -> node   {program, sources: {hash: (name, filename, source)}, entry,
                               modules: {name: hash}, argv, policy, hop_checkpoints, strict,
                               trace, record_access, again}
    accepted node -> client   {program}             (the submission is written: it will run
                                                     once, whatever becomes of the client)
    output   node -> client   {program, seq, text}
    result   node -> client   {program, seq, ok, value | error, traceback, nodes}
    trace    node -> client   {program, from, to, why, bytes, us, at}   (swarm run --trace)
    collect? client -> node   {programs}            (send again the output and result kept
                                                     here for these programs and their tasks)
    hello    client -> node   {}                    (lets the node route to this client)
    source?  node -> node     {key, hash}           (a node missing a program's source asks
                                                     the node the hop came from)
    source   reply            {key, source: (name, filename, text) | None}

Hops (node <-> node):
    hop      meta {program, hop_id, from, needs: source hashes, ...}, extra {acks},
             continuation bytes: the program moves here (acks: hops of the other direction
             this node persisted)
    ack      {hop_ids}         the receiver persisted these hops; the sender may forget them
             (sent at the end of a round unless a hop to that node carried them first)

Refs (node <-> node, for the fetch policy and relocation):
    fetch    {key, ref, action, arg}   ->  fetched {key, value | blob | moved_to | error}
             (action "coll": run a collection's steps here, answer the op; "coll-learn":
             memo facts, key None: no answer - swarm/node/collserve.py)

Control:
    ping / pong, status? / status, stop
    stats?   client -> node   {}
    stats    node -> client   {node, refs: {id: bytes}, edges: [[ref, ref, weight]]}
                              (the placer's report: swarm/node/access.py, cluster/graph.py)

NODE_KINDS are sent by nodes only: a node refuses them from a sender that is not a node of
its cluster file (a client, or a name it does not know).
"""

from __future__ import annotations

KINDS = frozenset({
    "submit", "accepted", "output", "result", "trace", "collect?", "hello", "source?",
    "source",
    "hop", "ack",
    "fetch", "fetched",
    "ping", "pong", "status?", "status", "stop", "stats?", "stats",
})

NODE_KINDS = frozenset({"hop", "ack", "source?", "source", "fetch", "fetched"})

#: a program's modules may not take these names: the node itself runs on them, and a
#: program's modules stand in for modules of the same name while it runs
RUNTIME_PACKAGES = frozenset({"swarm", "cluster", "zmq", "greenlet", "dill"})


def _str_list(v) -> bool:
    """a list of str"""
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _modules(v) -> bool:
    """{module name: source hash}, no name a package of the runtime"""
    return isinstance(v, dict) and all(
        isinstance(name, str) and isinstance(digest, str)
        and name.split(".")[0] not in RUNTIME_PACKAGES
        for name, digest in v.items())


def _source(v) -> bool:
    """(name, filename, source text)"""
    return isinstance(v, (tuple, list)) and len(v) == 3 and all(isinstance(x, str) for x in v)


def _source_or_none(v) -> bool:
    """(name, filename, source text) or None"""
    return v is None or _source(v)


def _sources(v) -> bool:
    """{hash: (name, filename, source text)}"""
    return isinstance(v, dict) and all(isinstance(k, str) and _source(s) for k, s in v.items())


def _why(v) -> bool:
    """(why, from, bytes, when): a traced hop"""
    return (isinstance(v, tuple) and len(v) == 4 and isinstance(v[0], str)
            and isinstance(v[1], str) and isinstance(v[2], int)
            and isinstance(v[3], (int, float)))


_NONE = type(None)

# kind -> (required fields, optional fields); a field's check is a type, a tuple of types,
# or a predicate. Fields not listed are allowed (and ignored).
PAYLOADS: dict[str, tuple[dict, dict]] = {
    "submit": ({"program": str, "sources": _sources, "entry": str, "modules": _modules},
               {"argv": list, "hop_checkpoints": bool, "policy": str, "strict": bool,
                "trace": bool, "record_access": bool, "again": bool}),
    "collect?": ({"programs": _str_list}, {}),
    "ack": ({"hop_ids": _str_list}, {}),
    "source?": ({"key": str, "hash": str}, {}),
    "source": ({"key": str, "source": _source_or_none}, {}),
    "fetch": ({"key": (str, _NONE), "ref": (str, _NONE), "action": str, "arg": object}, {}),
    "fetched": ({"key": str}, {}),
}

HOP_META: tuple[dict, dict] = (
    {"program": str, "client": str, "modules": _modules, "argv": list,
     "hop_checkpoints": bool, "seq": int, "route": list, "hop_id": str},
    {"from": str, "needs": _str_list, "policy": str, "strict": bool, "task": (str, _NONE),
     "trace": bool, "last_ref": (str, _NONE), "record_access": bool, "start": bool,
     "why": _why})

HOP_EXTRA: tuple[dict, dict] = ({}, {"acks": _str_list, "again": bool, "load": int})


def problem(value, spec: tuple[dict, dict]) -> str | None:
    """What is wrong with a payload, or None: the first field missing or of the wrong type."""
    if not isinstance(value, dict):
        return f"payload is a {type(value).__name__}, not a dict"
    required, optional = spec
    for fields, needed in ((required, True), (optional, False)):
        for name, check in fields.items():
            if name not in value:
                if needed:
                    return f"field {name!r} is missing"
                continue
            v = value[name]
            if isinstance(check, (type, tuple)):
                if not isinstance(v, check):
                    expected = " or ".join(t.__name__ for t in (
                        check if isinstance(check, tuple) else (check,)))
                    return f"field {name!r} is a {type(v).__name__}, not {expected}"
            elif not check(v):
                what = (check.__doc__ or "").strip().split("\n")[0] or check.__name__
                return f"field {name!r} is malformed: a {type(v).__name__}, not {what}"
    return None
