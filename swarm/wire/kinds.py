"""Message kinds, by family, and what their payloads must hold: the wire's written contract.

A message is [head, control, *blobs] (envelope.py). The control frame is msgpack: a map of
plain values (str, int, float, bool, None, bytes, lists and maps of them) - never executable,
decoded without running anything. Blobs are frames of their own for what is pickled - a
continuation, a Ref's value, an argument - so that a large value is neither copied into the
control frame nor decoded unless a handler asks for it (decode.value, decode.continuation:
the only functions that unpickle network bytes). decode.py checks every control map against
PAYLOADS (and a hop's meta against HOP_META) before a handler sees it: a signed message with
a missing or mistyped field, or the wrong number of blobs, is refused as malformed, with the
field named.

Programs (client <-> node):
    submit   client -> node   {program, sources: {hash: [name, filename, source]}, entry,
                               modules: {name: hash}, argv, policy, hop_checkpoints, strict,
                               trace, record_access, again, cwd, submitted, stdin:
                               forward | detached | none, files: {module name: file name},
                               kept?: [hash]}   (kept: sources the node has confirmed keeping,
                                                 named by hash, their text not sent)
    sources? node -> client   {program, hashes}     (a submission named as kept sources this
                                                     node lacks: not taken; the client sends
                                                     it again with their text)
    accepted node -> client   {program}             (the submission is written: it will run
                                                     once, whatever becomes of the client)
    output   node -> client   {program, seq, text, stream?: "err"}   (stdout unless stream
                                                     says stderr; seq is shared by both)
    result   node -> client   {program, seq, ok, error, traceback, route, value: pickled
                               bytes or None, exit?: SystemExit's code (None, int, str),
                               note?: str (e.g. a RESULT that did not pickle), node?: where
                               it ended, asked?: the nodes it asked from there, one a
                               question, at most 32 (swarm.web.Starts)}
    input?   node -> client   {program, n}          (the program reads stdin and has nothing
                                                     left: its n-th question)
    input    client -> node   {program, n, text, eof}   (what the client's stdin gave)
    trace    node -> client   {program, from, to, why, bytes, us, at}   (swarm run --trace)
    collect? client -> node   {programs}            (send again the output and result kept
                                                     here for these programs and their tasks)
    hello    client -> node   {}                    (lets the node route to this client)
    source?  node -> node     {key, hash}           (a node missing a program's source asks
                                                     the node the hop came from)
    source   reply            {key, source: [name, filename, text] | None}

Hops (node <-> node):
    hop      control {acks, again, load, cancelled}, blobs [meta (msgpack, HOP_META), continuation]:
             the program moves here (acks: hops of the other direction this node persisted;
             the meta frame is stored as it came)
    ack      {hop_ids, forget?, load?}  the receiver persisted these hops; the sender may
             forget them (sent at the end of a round unless a hop to that node carried them
             first); load: the receiver's runnable programs (tasks.least_loaded)
    refused  {hop_ids, reason} the receiver did not take these hops (its store cannot write
             now): they stay in the sender's outbox, resent; their programs wait

Refs (node <-> node, for the fetch policy and relocation):
    fetch    {key, ref, action}, blobs [arg, pickled]
             -> fetched {key, moved_to?, failed?: [message, traceback], error?, mapped?,
                error_type?, error_text?, error_was?: an error by type name from a fixed
                list, its message, the type it had - swarm/node/remoteerrors.py},
                blobs (a `get` whose arg is the asker's host, answered by a node of that
                host: `mapped` names the value's store file, and no blob - bulkmaps.py)
                [value, pickled] when there is one
             (action "coll": run a collection's steps here, answer the op - with an op id
             when it changes something, collchain.py; "coll-read": the same, for steps a
             second copy changes nothing with; "coll-learn":
             memo facts, key None: no answer - swarm/node/collserve.py)
             op?: the question's id when it changes something: a copy asked again is
             answered as the first was, not done again (machine/answers.py)
    answered {ops}  the asker has no more use for the answers to these questions

Copies of a node's store (node -> its mirror and back: swarm/node/mirrors.py has the table):
    mirror, mirrored, snapshot, restore?, restore

Failover without an operator (node -> node: machine/failover.py):
    failover  {step, node, ok?, why?, view?}: out? (vote `node` out?) -> out {ok, why, view}
              (view: the members the sender knows, in short); alone? (may
              the sender, `node`, go on without its mirror?) -> alone {ok}; whole (its copy
              is whole again); alive? (are you?) -> alive; bye (the sender stops cleanly)

Programs in flight (finality: docs/nodes.md):
    waiting   node -> client  {program, node, since, reason?}  (its hop to `node` has not
                              been acknowledged for hop_timeout, or was refused for `reason`;
                              a submission the node could not take)
    programs? client -> node  {programs: [id] | None}  -> programs {node, programs: [{program,
                              state, since, at, to, client, task, route}], finished:
                              [id], booted?: when the node started}  (swarm ps, swarm
                              dashboard, and a client looking for its
                              programs after a fence; route: the nodes it ran on, ending
                              with `to`)
    fence     client -> node  {node, phase, heir?}  -> fenced {node, phase}  (swarm node gone;
                              with an heir, swarm node remove: machine/fences.py)
    leave     client -> node  {}  -> leaving {node, here: [program], count}  (swarm node
                              remove: the node takes no new program or hop from now on;
                              `stay`: it does again - the command gave up)
    adopt     client -> node  {node, force?, failover?}  -> adopted {node, error?}  (swarm node remove: the
                              heir merges its copy of the node's store into its own, and
                              starts again from it: swarm/node/adopt.py)
    join      client -> node  {node, endpoint, public_key?, members?}  -> joined {node,
                              error?}  (swarm node add: the node is a member from now on;
                              members: the cluster file's nodes, in order)
    cancel    client -> node  {program}  -> cancelled {program, node, state: cancelled |
                              finished | unknown}  (swarm cancel, Ctrl-C of swarm run)
    unknown   node -> client  {programs}  (answer to collect?: this node knows nothing of
                              them - neither running, nor sent, nor kept)
    hops?     client -> node  {after}  -> hops {node, epoch, last, missed, hops: [{n, at,
                              program, hop, from, to, why, bytes, us}]}  (the hops it took
                              lately, numbered: swarm/node/machine/history.py; swarm
                              dashboard's timeline)
    gc        client -> node  {cycle, phase: mark | flush | end | sweep, ids?, nodes?}
                              -> gc-report {node, cycle, phase, ...}: mark {refs: {id: size},
                              edges: {id: [id]}, roots: [id]}; flush {lost}; end {lost,
                              touched: [id]} or {pending: [node]}; sweep {lost, deleted,
                              bytes}  (swarm gc: swarm/garbage.py, swarm/node/machine/gc.py)
    gc-flush  node -> node    {cycle}  (behind everything the sender sent the receiver before:
                              once it has every live node's, the receiver may end the cycle)

Messages larger than a frame limit (chunks.py):
    chunk    control {stream, index, count?, kind?, control?, sizes?}, blobs: a slice of
             the message's blobs, laid end to end (the first chunk carries the message's
             kind, control frame and blob sizes); put together, the message is handled as
             if it had come whole

Control:
    ping / pong {node}, status? / status, stop
    stats?   client -> node   {}
    stats    node -> client   {node, refs: {id: bytes}, edges: [[ref, ref, weight]]}
                              (the placer's report: swarm/node/access.py, cluster/graph.py)

NODE_KINDS are sent by nodes only: a node refuses them from a sender that is not a node of
its cluster file (a client, or a name it does not know).
"""

from __future__ import annotations

KINDS = frozenset({
    "submit", "accepted", "output", "result", "trace", "collect?", "hello", "source?",
    "source", "sources?",
    "hop", "ack", "refused",
    "fetch", "fetched", "answered", "chunk",
    "ping", "pong", "status?", "status", "stop", "stats?", "stats",
    "waiting", "programs?", "programs", "fence", "fenced", "cancel", "cancelled", "unknown",
    "join", "joined", "adopt", "adopted", "leave", "stay", "leaving",
    "input?", "input",
    "hops?", "hops", "gc", "gc-report", "gc-flush",
    "mirror", "mirrored", "snapshot", "restore?", "restore", "failover",
})

NODE_KINDS = frozenset({"hop", "ack", "refused", "source?", "source", "fetch", "fetched",
                        "answered", "gc-flush", "chunk",
                        "mirror", "mirrored", "snapshot", "restore?", "restore",
                        "failover"})

#: a program's modules may not take these names: the node itself runs on them, and a
#: program's modules stand in for modules of the same name while it runs
RUNTIME_PACKAGES = frozenset({"swarm", "cluster", "zmq", "greenlet", "dill", "msgpack"})


def _failover_step(v) -> bool:
    """out?, out, alone?, alone, whole, alive?, alive or bye"""
    return v in ("out?", "out", "alone?", "alone", "whole", "alive?", "alive", "bye")


_is_str = str.__instancecheck__  # isinstance(x, str), mapped in C over a list (below)


def _str_list(v) -> bool:
    """a list of str"""
    # (all(map(...)) rather than a generator: hop ids ride on every hop and ack in lists of
    # a few to a few dozen, and a generator costs a Python frame resumed per element)
    return isinstance(v, list) and all(map(_is_str, v))


def _str_list_or_none(v) -> bool:
    """a list of str, or None"""
    return v is None or _str_list(v)


def _modules(v) -> bool:
    """{module name: source hash}, no name a package of the runtime"""
    return isinstance(v, dict) and all(
        isinstance(name, str) and isinstance(digest, str)
        and name.split(".")[0] not in RUNTIME_PACKAGES
        for name, digest in v.items())


def _files(v) -> bool:
    """{module name: file name}"""
    return isinstance(v, dict) and all(map(_is_str, v)) and all(map(_is_str, v.values()))


def _environ(v) -> bool:
    """{name: value or None (unset)}"""
    return isinstance(v, dict) and all(isinstance(k, str) and (x is None or isinstance(x, str))
                                       for k, x in v.items())


def _source(v) -> bool:
    """[name, filename, source text]"""
    return isinstance(v, list) and len(v) == 3 and all(isinstance(x, str) for x in v)


def _source_or_none(v) -> bool:
    """[name, filename, source text] or None"""
    return v is None or _source(v)


def _sources(v) -> bool:
    """{hash: [name, filename, source text]}"""
    return isinstance(v, dict) and all(isinstance(k, str) and _source(s) for k, s in v.items())


def submit_problem(p: dict) -> str | None:
    """What the fields of a submit cannot say alone: its entry must be one of its sources
    (sent, or named as kept)."""
    if p["entry"] not in p["sources"] and p["entry"] not in p.get("kept", ()):
        return f"entry {p['entry'][:16]!r} is not among the sources sent or named as kept"
    return None


def _why(v) -> bool:
    """[why, from, bytes, when]: a traced hop"""
    return (isinstance(v, list) and len(v) == 4 and isinstance(v[0], str)
            and isinstance(v[1], str) and isinstance(v[2], int)
            and isinstance(v[3], (int, float)))


def _failed(v) -> bool:
    """[message, traceback]"""
    return isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)


def _mapped(v) -> bool:
    """{name, length, ident: [5 ints], digest}: a store file offered to map (bulkmaps.py)"""
    return (isinstance(v, dict) and isinstance(v.get("name"), str)
            and isinstance(v.get("length"), int) and isinstance(v.get("digest"), str)
            and isinstance(v.get("ident"), list) and len(v["ident"]) == 5
            and all(isinstance(x, int) for x in v["ident"]))


_NONE = type(None)
_MANY = 1 << 20  # frames of a message carrying files (a store's large values)

# kind -> (required fields, optional fields, blobs); a field's check is a type, a tuple of
# types, or a predicate; blobs: (the least, the most) frames after the control frame. Fields
# not listed are allowed (and ignored).
PAYLOADS: dict[str, tuple[dict, dict, tuple[int, int]]] = {
    "submit": ({"program": str, "sources": _sources, "entry": str, "modules": _modules},
               {"argv": _str_list, "hop_checkpoints": bool, "policy": str, "strict": bool,
                "trace": bool, "record_access": bool, "again": bool, "cwd": str,
                "submitted": (int, float), "stdin": str, "files": _files,
                "kept": _str_list, "quick": bool}, (0, 0)),
    "collect?": ({"programs": _str_list}, {}, (0, 0)),
    "hello": ({}, {}, (0, 0)),
    "ping": ({}, {}, (0, 0)),
    "status?": ({}, {}, (0, 0)),
    "stats?": ({}, {}, (0, 0)),
    "stop": ({}, {}, (0, 0)),
    "ack": ({"hop_ids": _str_list}, {"forget": _str_list, "load": int}, (0, 0)),
    "refused": ({"hop_ids": _str_list, "reason": str}, {}, (0, 0)),
    "source?": ({"key": str, "hash": str}, {}, (0, 0)),
    "source": ({"key": str, "source": _source_or_none}, {}, (0, 1)),  # (a value's pickle)
    "hop": ({}, {"acks": _str_list, "again": bool, "load": int, "forget": _str_list,
                 "cancelled": bool}, (2, 2)),
    "fetch": ({"key": (str, _NONE), "ref": (str, _NONE), "action": str}, {"op": str}, (1, 1)),
    "answered": ({"ops": _str_list}, {}, (0, 0)),
    "fetched": ({"key": str}, {"moved_to": str, "failed": _failed, "error": str,
                             "error_type": str, "error_text": str, "error_was": str,
                             "mapped": _mapped}, (0, 1)),
    "chunk": ({"stream": int, "index": int}, {"count": int, "kind": str, "control": bytes,
                                               "sizes": list}, (1, 14)),
    # what clients take (checked there too)
    "accepted": ({"program": str}, {}, (0, 0)),
    "sources?": ({"program": str, "hashes": _str_list}, {}, (0, 0)),
    "output": ({"program": str, "seq": int, "text": str}, {"stream": str}, (0, 0)),
    "result": ({"program": str, "seq": int, "ok": bool}, {
        "error": (str, _NONE), "traceback": str, "route": list, "value": (bytes, _NONE),
        "exit": (int, str, _NONE), "note": str, "node": str, "asked": _str_list},
        (0, 0)),
    "input?": ({"program": str, "n": int}, {}, (0, 0)),
    "input": ({"program": str, "n": int, "text": str, "eof": bool}, {}, (0, 0)),
    "trace": ({"program": str}, {}, (0, 0)),
    "pong": ({"node": str}, {}, (0, 0)),
    "status": ({"node": str}, {}, (0, 0)),
    "stats": ({"node": str, "refs": dict, "edges": list}, {}, (0, 0)),
    "waiting": ({"program": str, "node": str, "since": (int, float)}, {"reason": str},
                (0, 0)),
    "programs?": ({}, {"programs": _str_list_or_none}, (0, 0)),
    "programs": ({"node": str, "programs": list, "finished": _str_list},
                 {"booted": (int, float)}, (0, 0)),
    "fence": ({"node": str, "phase": int}, {"heir": str}, (0, 0)),
    "adopt": ({"node": str}, {"force": bool, "failover": bool}, (0, 0)),
    "leave": ({}, {}, (0, 0)),
    "stay": ({}, {}, (0, 0)),
    "leaving": ({"node": str, "here": _str_list, "count": int}, {}, (0, 0)),
    "adopted": ({"node": str}, {"error": str}, (0, 0)),
    "join": ({"node": str, "endpoint": str}, {"public_key": str, "members": _str_list},
             (0, 0)),
    "joined": ({"node": str}, {"error": str}, (0, 0)),
    "cancel": ({"program": str}, {}, (0, 0)),
    "cancelled": ({"program": str, "node": str, "state": str}, {}, (0, 0)),
    "unknown": ({"programs": _str_list}, {}, (0, 0)),
    "fenced": ({"node": str, "phase": int}, {}, (0, 0)),
    "hops?": ({}, {"after": int}, (0, 0)),
    "gc": ({"cycle": str, "phase": str}, {"ids": _str_list, "nodes": _str_list}, (0, 0)),
    "gc-flush": ({"cycle": str}, {}, (0, 0)),
    "gc-report": ({"node": str, "cycle": str, "phase": str}, {}, (0, 0)),
    "hops": ({"node": str, "epoch": (int, float), "last": int, "missed": int, "hops": list},
             {}, (0, 0)),
    # copies of a node's store (swarm/node/mirrors.py; records.py checks a record's statements)
    "mirror": ({"seq": int}, {"id": int, "probe": bool, "stmts": list, "log": list,
                              "files": _str_list}, (0, _MANY)),
    "mirrored": ({"seq": int, "have": int, "gap": bool}, {"probe": bool, "behind": bool},
                 (0, 0)),
    "snapshot": ({"seq": int, "files": _str_list}, {"id": int}, (1, _MANY)),
    "restore?": ({}, {"new": bool, "former": bool}, (0, 0)),
    # failover without an operator (machine/failover.py)
    "failover": ({"step": _failover_step, "node": str}, {"ok": bool, "why": str,
                                                         "view": str}, (0, 0)),
    "restore": ({"seq": int, "files": _str_list, "copy": bool, "new": bool}, {},
                (0, _MANY)),
}

HOP_META: tuple[dict, dict] = (
    {"program": str, "client": str, "modules": _modules, "argv": _str_list,
     "hop_checkpoints": bool, "seq": int, "route": _str_list, "hop_id": str},
    {"from": str, "needs": _str_list, "policy": str, "strict": bool, "task": (str, _NONE),
     # the hashes of its large values (program.ship: those it held at this hop)
     "values": _str_list,
     "trace": bool, "last_ref": (str, _NONE), "first_ref": (str, _NONE), "star": int,
     "record_access": bool, "start": bool,
     "why": _why, "submitted": (int, float), "cwd": str,
     # the program's process state (swarm/node/process.py) and unread input (programio.py)
     "environ": _environ, "path_head": _str_list, "path_tail": _str_list, "stdin": str,
     "stdin_mode": str, "stdin_eof": bool, "stdin_asked": int, "files": _files,
     # seconds since its cancel's KeyboardInterrupt was raised in it (program.arriving)
     "interrupted": (int, float)})


def problem(value, spec: tuple) -> str | None:
    """What is wrong with a payload, or None: the first field missing or of the wrong type.

    Discussion: every message's fields are checked, a hop's thirty possible ones twice a
    round trip, so a payload is first looked at the quick way - its own fields (a dozen), each
    field's type compared exactly with the types its spec names (`_quick`) - and only one
    that fails that is checked field by field in the spec's order (`_problem`, which also
    says what is wrong: the same answer as before for every payload)."""
    if type(value) is dict:
        required, checks = _quick(spec)
        for name in required:
            if name not in value:
                return _problem(value, spec)
        get = checks.get
        for name, v in value.items():
            check = get(name)
            if check is None:
                continue
            if check.__class__ is frozenset:
                if type(v) in check:
                    continue
            elif check(v):
                continue
            return _problem(value, spec)  # (a subclass of a type named, or malformed)
        return None
    return _problem(value, spec)


_QUICK: dict[int, tuple] = {}  # id(spec) -> (spec, its required names, {name: check})


def _quick(spec: tuple) -> tuple:
    """A spec's (required names, {name: exact types (a frozenset) or its check function})."""
    entry = _QUICK.get(id(spec))
    if entry is None or entry[0] is not spec:
        checks = {}
        for fields in (spec[1], spec[0]):  # (a name in both: the required one's check)
            for name, check in fields.items():
                if isinstance(check, (type, tuple)):
                    check = frozenset(check if isinstance(check, tuple) else (check,))
                checks[name] = check
        entry = _QUICK[id(spec)] = (spec, tuple(spec[0]), checks)
    return entry[1], entry[2]


def _problem(value, spec: tuple) -> str | None:
    """problem(), field by field in the spec's order."""
    if not isinstance(value, dict):
        return f"payload is a {type(value).__name__}, not a map"
    required, optional = spec[0], spec[1]
    for fields, needed in ((required, True), (optional, False)):
        for name, check in fields.items():
            if name not in value:
                if needed:
                    return f"field {name!r} is missing"
                continue
            v = value[name]
            if isinstance(check, (type, tuple)):
                if not isinstance(v, check) or (check is int and isinstance(v, bool)):
                    expected = " or ".join(t.__name__ for t in (
                        check if isinstance(check, tuple) else (check,)))
                    return f"field {name!r} is a {type(v).__name__}, not {expected}"
            elif not check(v):
                what = (check.__doc__ or "").strip().split("\n")[0] or check.__name__
                return f"field {name!r} is malformed: a {type(v).__name__}, not {what}"
    return None
