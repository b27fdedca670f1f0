"""A swarm node: one process holding Refs and running programs that come to them
(docs/architecture.md).

    machine/     the node's logic, pure: NodeState.handle(event) -> [instruction]
    shell.py     the I/O shell: messages -> events, instructions -> sockets, store, greenlets
    links.py     the sockets: the ROUTER, a DEALER per peer, what waits for a slow reader
    store.py     SQLite (WAL): Refs, forwards, hops taken, sent and kept, sources, fences
    kernel.py    the loop and the greenlet hub: the ONLY code that switches greenlets
    traps.py     the one door from a program into its node (Ref, Future, collections...)
    program.py   one program on this node: its context, its output, capture -> hop
    refserve.py  Refs: where they are, accesses, fetches served, relocation
    tasks.py     spawn() and futures: placing tasks, starting them, their results
    asking.py    questions to other nodes (fetch, adopt, collection steps, sources)
    colldata.py  what collections are made of: derived Ref ids, keys, the memo, an op
    collserve.py the steps of collection operations, run where their Refs are
    modules.py   importing a program's own modules from their sources
    config.py    the cluster file (cluster.toml)
"""
