"""A swarm node: one process holding Refs and running programs that come to them.

    kernel.py   the greenlet hub: the ONLY code that switches greenlets (traps: spawn, wait, wake)
    store.py    SQLite (WAL): Refs, forwarding pointers, accepted and unacknowledged hops
    program.py  one program on this node: its context, its output, capture -> hop
    server.py   the I/O shell: ZeroMQ sockets, timers, message dispatch
    refserve.py where Refs are, accesses, fetches, relocation (a mixin of the server)
    colldata.py   what collections are made of: derived Ref ids, keys, the memo, an op
    collserve.py  the steps of collection operations, run where their Refs are
    config.py   the cluster file (cluster.toml)
"""
