"""Message kinds, by family. Payloads are pickled dicts of plain values (body of the envelope);
a b"hop" body is an encoded continuation (swarm.continuation.codec).

Programs (client <-> node):
    submit   client -> node   {program, sources: {hash: (name, filename, source)}, entry,
                               argv, policy, client}
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
    fetch    {ref, reply_to}   ->  fetched {ref, found, value | moved_to}
             (action "coll": run a collection's steps here, answer the op; "coll-learn":
             memo facts, key None: no answer - swarm/node/collserve.py)
    store    {ref, value}      ->  stored  {ref}

Control:
    ping / pong, status? / status, stop
    stats?   client -> node   {}
    stats    node -> client   {node, refs: {id: bytes}, edges: [[ref, ref, weight]]}
                              (the placer's report: swarm/node/access.py, cluster/graph.py)
"""

KINDS = frozenset({
    "submit", "accepted", "output", "result", "trace", "collect?", "hello", "source?",
    "source",
    "hop", "ack",
    "fetch", "fetched", "store", "stored",
    "ping", "pong", "status?", "status", "stop", "stats?", "stats",
})
