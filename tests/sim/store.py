"""A node's disk in the simulator: what swarm/node/store.py keeps in SQLite, in dicts.

A transaction is applied whole or not at all, as SQLite's is; a crash of the process keeps
every committed transaction (the node's WAL with synchronous=NORMAL survives SIGKILL). The
disk can be made full, or nearly (`room`: the bytes it still takes): a commit that does not
fit then fails, as SQLite's does ('database or disk is full'), and one that fits takes its
room (what it writes, and a page: a transaction that writes nothing still appends to the log).
"""

from __future__ import annotations

PAGE = 64  # what any commit takes of a full disk


class DiskFull(Exception):
    pass


class SimStore:
    def __init__(self) -> None:
        self.refs: dict[str, bytes] = {}
        self.forwards: dict[str, str] = {}
        self.moves: dict[str, str] = {}
        self.inbox: dict[str, tuple] = {}  # hop id -> (program, meta, data)
        self.outbox: dict[str, tuple] = {}  # hop id -> (node, meta, data, sent at)
        self.done: set[str] = set()
        self.forget_at: dict[str, float] = {}  # done's forget_at column
        self.forgotten = 0  # rows of `done` removed (the tests)
        self.kept: dict[tuple, bytes] = {}  # (program, kind, seq) -> payload
        self.sources: dict[str, tuple] = {}
        self.fenced: set[str] = set()
        self.heirs: dict[str, tuple] = {}  # node -> (heir, routed)
        self.adopted: set[str] = set()  # nodes whose store this one took (adoptions.py)
        self.cancelled: set[str] = set()
        self.deaths: dict[str, int] = {}
        self.partial: dict[str, list] = {}  # (Store's `partial` table)
        self.answers: dict[str, tuple] = {}  # op -> (node, reply, value, at)
        self.blocks: dict[tuple, object] = {}  # (kind, block) -> record (Store's `blocks`)
        self.room: int | None = None  # bytes the disk still takes (None: no limit)
        self.commits = 0
        self.seq = 0  # the last record made (a copy: replayed): tests/sim/mirrors.py
        self.id = 0  # which store it is (Store.id), and whether its node took it for its
        self.born = False  # own (restore.py: a new store is not, until its mirror answers)
        self.failures = 0  # commits that did not fit (the tests)

    # ---- what the machine reads (machine/data.py: Reader) ----------------------------------------
    def get_ref(self, ref_id: str) -> bytes | None:
        return self.refs.get(ref_id)

    def has_ref(self, ref_id: str) -> bool:
        return ref_id in self.refs

    def ref_size(self, ref_id: str) -> int:
        return len(self.refs[ref_id])

    def forward(self, ref_id: str) -> str | None:
        return self.forwards.get(ref_id)

    def all_refs(self):
        return list(self.refs.items())

    def moves_under_way(self) -> list[str]:
        return list(self.moves)

    def held_blobs(self):
        return [*(row[2] for row in self.inbox.values()),
                *(row[2] for row in self.outbox.values()), *self.kept.values()]

    # ---- the shell's side ------------------------------------------------------------------------
    def commit(self, txn, now: float) -> None:
        """Apply a ledger Txn as Store.commit does, all or nothing."""
        finished = set(txn.finished)
        if self.room is not None:
            size = PAGE + self.size_of(txn, finished)
            if size > self.room:
                self.failures += 1
                raise DiskFull("database or disk is full")
            self.room -= size
        for hop_id, (program, meta, data) in txn.accepted.items():
            self.done.add(hop_id)
            if hop_id not in finished:
                self.inbox.setdefault(hop_id, (program, meta, data))
        for hop_id in txn.finished:
            if hop_id not in txn.accepted:
                self.inbox.pop(hop_id, None)
        for hop_id, node, meta, data in txn.outgoing:
            self.outbox[hop_id] = (node, meta, data, now)
        for hop_id in txn.acked:
            self.outbox.pop(hop_id, None)
        for hop_id, at in txn.forgetting:
            if hop_id in self.done:
                self.forget_at[hop_id] = at
        self.forgotten += len(txn.forgotten)
        for hop_id in txn.forgotten:
            self.done.discard(hop_id)
            self.forget_at.pop(hop_id, None)
        for program, seq, kind, payload in txn.kept:
            self.kept[(program, kind, seq)] = payload
        self.sources.update(txn.sources)
        self.fenced.update(txn.fences)
        self.heirs.update(txn.heirs)
        self.cancelled.update(txn.cancelled)
        self.deaths.update(txn.deaths)
        self.partial.update((h, refs) for h, refs in txn.partial.items()
                            if h not in finished)
        for hop_id in txn.finished:
            self.partial.pop(hop_id, None)
        self.answers.update(txn.answers)
        for op in txn.unanswered:
            self.answers.pop(op, None)
        writes = txn.writes
        if writes:
            for ref_id, blob in writes.values.items():
                if blob is None:
                    self.refs.pop(ref_id, None)
                else:
                    self.refs[ref_id] = blob
                    self.forwards.pop(ref_id, None)
            self.forwards.update(writes.forwards)
            self.moves.update(writes.moves)
            for ref_id in writes.moved:
                self.moves.pop(ref_id, None)
            for key, record in writes.blocks.items():
                if record is None:
                    self.blocks.pop(key, None)
                else:
                    self.blocks[key] = record
        self.commits += 1

    @staticmethod
    def size_of(txn, finished: set) -> int:
        """The bytes a transaction adds: the rows it writes, as Store.commit writes them."""
        size = sum(len(meta) + len(data) for h, (_, meta, data) in txn.accepted.items()
                   if h not in finished)
        size += sum(len(meta) + len(data) for _, _, meta, data in txn.outgoing)
        size += sum(len(k[3]) for k in txn.kept)
        size += sum(len(h) for h in txn.accepted)  # (done)
        size += sum(len(op) + len(a[1]) + len(a[2] or b"") for op, a in txn.answers.items())
        if txn.writes:
            size += sum(len(b) for b in txn.writes.values.values() if b is not None)
        return size

    def merge(self, other: SimStore) -> None:
        """Another node's store into this one (node/adopt.py): the rows this one lacks of
        every table keyed by a hop, program, Ref or question id."""
        for table in ("refs", "forwards", "moves", "inbox", "outbox", "forget_at", "kept",
                      "sources", "deaths", "partial", "answers", "blocks"):
            mine = getattr(self, table)
            for key, row in getattr(other, table).items():
                mine.setdefault(key, row)
        for ref_id in self.refs:  # (a Ref here has no forward: adopt.merge)
            self.forwards.pop(ref_id, None)
        self.done |= other.done
        self.fenced |= other.fenced
        self.cancelled |= other.cancelled

    def be_born(self, store_id: int) -> None:
        self.id, self.born = store_id, True

    def kept_for(self, program: str) -> list[tuple[str, bytes]]:
        rows = [(seq, kind, payload) for (p, kind, seq), payload in self.kept.items()
                if p == program or p.startswith(program + "/")]
        return [(kind, payload) for seq, kind, payload in sorted(rows, key=lambda r: r[0])]

    def boot_state(self) -> dict:
        return {"inbox": [(h, *v) for h, v in self.inbox.items()],
                "outbox": [(h, *v) for h, v in self.outbox.items()],
                "moves": list(self.moves.items()),
                "done": [h for h in self.done if h not in self.forget_at],
                "forgetting": list(self.forget_at.items()),
                "fenced": list(self.fenced), "heirs": dict(self.heirs),
                "cancelled": list(self.cancelled),
                "deaths": dict(self.deaths), "partial": dict(self.partial),
                "answers": [(op, *a) for op, a in self.answers.items()],
                "mirror_seq": self.seq, "store_id": self.id}
