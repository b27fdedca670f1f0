"""The node's durable state, in one SQLite file (WAL mode).

Tables:
    refs(id, value, size)           the Refs that live here (values pickled by the codec)
    forwards(id, node)              Refs that moved away: where to look next
    moves(id, node)                 relocations started and not yet confirmed by the new node
    inbox(hop_id, program, meta, data)   hops accepted (persisted before the ack) and not yet
                                    finished here; resumed again after a crash (a hop that
                                    moves on in the round it came is never written here)
    outbox(hop_id, node, meta, data, sent_at)   hops sent and not yet acknowledged; resent
                                    until acked, or until the hop timeout fails the program
    done(hop_id)                    hops already taken, so a resent one is resumed once
                                    (a client's submission is one too: server.on_submit)
    kept(program, seq, kind, payload, at)   programs' output and results sent to clients
                                    from here, sent again on `collect?`; a week at most
    counters(name, value)           id allocation; `replay_cutoff`: the replay gate's cutoff
                                    (swarm/wire/gate.py), -1 while the node runs
    sources(hash, name, filename, source)   program code received (programs resumed after a
                                    restart need it)
    fenced(node, at)                nodes declared gone: refused for ever (swarm node gone)
    cancelled(program, at)          programs cancelled (swarm cancel): never run again here
    deaths(program, count)          how often the node died while a program ran (quarantine)

Discussion: WAL with synchronous=NORMAL survives a process crash (SIGKILL) - every committed
transaction is in the log - though not a power cut; an acknowledged write is a committed one.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS refs (id TEXT PRIMARY KEY, value BLOB NOT NULL, size INTEGER);
CREATE TABLE IF NOT EXISTS forwards (id TEXT PRIMARY KEY, node TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inbox (hop_id TEXT PRIMARY KEY, program TEXT, meta BLOB, data BLOB);
CREATE TABLE IF NOT EXISTS outbox (hop_id TEXT PRIMARY KEY, node TEXT, meta BLOB, data BLOB,
                                   sent_at REAL);
CREATE TABLE IF NOT EXISTS done (hop_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS moves (id TEXT PRIMARY KEY, node TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kept (program TEXT, seq INTEGER, kind TEXT, payload BLOB,
                                 at REAL, PRIMARY KEY (program, kind, seq));
CREATE TABLE IF NOT EXISTS sources (hash TEXT PRIMARY KEY, name TEXT, filename TEXT, source TEXT);
CREATE TABLE IF NOT EXISTS fenced (node TEXT PRIMARY KEY, at REAL);
CREATE TABLE IF NOT EXISTS cancelled (program TEXT PRIMARY KEY, at REAL);
CREATE TABLE IF NOT EXISTS deaths (program TEXT PRIMARY KEY, count INTEGER);
"""


class Store:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self):
        """One atomic commit. (The connection is in autocommit mode - isolation_level=None -
        so without an explicit BEGIN every statement would be a transaction of its own.)"""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            # (a full disk: SQLite has rolled it back itself, and a ROLLBACK would raise
            # "no transaction is active" in place of the cause)
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    # ids ------------------------------------------------------------------------------------
    def next_id(self, name: str) -> int:
        with self.transaction():
            self.db.execute("INSERT INTO counters VALUES (?, 1) ON CONFLICT(name) "
                            "DO UPDATE SET value = value + 1", (name,))
            (value,) = self.db.execute("SELECT value FROM counters WHERE name = ?",
                                       (name,)).fetchone()
        return value

    def start_replay_guard(self, now_ms: int) -> int:
        """The replay gate's cutoff for a node starting now (swarm/wire/gate.py): the newest
        message it took before it last stopped cleanly; `now_ms` if it did not stop cleanly
        (its messages taken before the crash are not known); 0 for a new store. The store is
        marked as running until `stop_replay_guard`."""
        with self.transaction():
            row = self.db.execute("SELECT value FROM counters WHERE name = 'replay_cutoff'"
                                  ).fetchone()
            self.db.execute("INSERT OR REPLACE INTO counters VALUES ('replay_cutoff', -1)")
        return 0 if row is None else now_ms if row[0] < 0 else row[0]

    def stop_replay_guard(self, cutoff_ms: int) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO counters VALUES ('replay_cutoff', ?)",
                            (cutoff_ms,))

    # refs -----------------------------------------------------------------------------------
    def get_ref(self, ref_id: str) -> bytes | None:
        row = self.db.execute("SELECT value FROM refs WHERE id = ?", (ref_id,)).fetchone()
        return row[0] if row else None

    def ref_size(self, ref_id: str) -> int:
        row = self.db.execute("SELECT size FROM refs WHERE id = ?", (ref_id,)).fetchone()
        if row is None:
            raise KeyError(ref_id)
        return row[0]

    def has_ref(self, ref_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM refs WHERE id = ?", (ref_id,)).fetchone() \
            is not None

    def forward(self, ref_id: str) -> str | None:
        row = self.db.execute("SELECT node FROM forwards WHERE id = ?", (ref_id,)).fetchone()
        return row[0] if row else None

    def pending_moves(self) -> list[tuple[str, str]]:
        return self.db.execute("SELECT id, node FROM moves").fetchall()

    def ref_sizes(self) -> dict[str, int]:
        """Every Ref here (not futures' results) -> the size of its stored value."""
        return {ref_id: size for ref_id, size in
                self.db.execute("SELECT id, size FROM refs") if "." in ref_id}

    def stats(self) -> tuple[int, int]:
        count, size = self.db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM refs"
                                      ).fetchone()
        return count, size

    # code -----------------------------------------------------------------------------------
    def all_sources(self) -> dict:
        return {h: (n, f, s) for h, n, f, s in
                self.db.execute("SELECT hash, name, filename, source FROM sources")}

    # hops -----------------------------------------------------------------------------------
    def is_done(self, hop_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM done WHERE hop_id = ?", (hop_id,)).fetchone() \
            is not None

    def commit(self, txn) -> None:
        """One transaction for what the node did since its last write (a ledger Txn, see
        swarm/node/machine/ledger.py):

        accepted   {hop_id: (program, meta, data)} hops received and resumed but not yet
                   written; each goes to `done`, and to the inbox unless it is finished
        finished   hops a program ended here (shipped on, or finished): off the inbox
        outgoing   [(hop_id, node, meta, data)]: hops sent, into the outbox
        acked      outbox hops the receiver acknowledged
        writes     RefData's staged writes: values (None: deleted), forwards, moves
        kept       [(program, seq, kind, payload)]: output and results for clients
        sources    program code received

        Discussion: a hop that is shipped on (or finishes) before the write never enters the
        inbox: its successor in the outbox stands for it, written in the same transaction as
        its `done` mark, before it is acknowledged."""
        now = time.time()
        db = self.db
        finished = set(txn.finished)
        with self.transaction():
            for hop_id, (program, meta, data) in txn.accepted.items():
                db.execute("INSERT OR IGNORE INTO done VALUES (?)", (hop_id,))
                if hop_id not in finished:
                    db.execute("INSERT OR IGNORE INTO inbox VALUES (?, ?, ?, ?)",
                               (hop_id, program, meta, data))
            for hop_id in txn.finished:
                if hop_id not in txn.accepted:
                    db.execute("DELETE FROM inbox WHERE hop_id = ?", (hop_id,))
            for hop in txn.outgoing:
                db.execute("INSERT OR REPLACE INTO outbox VALUES (?, ?, ?, ?, ?)", (*hop, now))
            if txn.acked:
                db.executemany("DELETE FROM outbox WHERE hop_id = ?", [(h,) for h in txn.acked])
            if txn.kept:
                db.executemany("INSERT OR REPLACE INTO kept VALUES (?, ?, ?, ?, ?)",
                               [(*k, now) for k in txn.kept])
            if txn.cancelled:
                db.executemany("INSERT OR IGNORE INTO cancelled VALUES (?, ?)",
                               [(p, now) for p in txn.cancelled])
            if txn.deaths:
                db.executemany("INSERT OR REPLACE INTO deaths VALUES (?, ?)",
                               list(txn.deaths.items()))
            if txn.fences:
                db.executemany("INSERT OR IGNORE INTO fenced VALUES (?, ?)",
                               [(n, now) for n in txn.fences])
            if txn.sources:
                db.executemany("INSERT OR IGNORE INTO sources VALUES (?, ?, ?, ?)",
                               [(h, *v) for h, v in txn.sources.items()])
            writes = txn.writes
            if writes:
                for ref_id, blob in writes.values.items():
                    if blob is None:
                        db.execute("DELETE FROM refs WHERE id = ?", (ref_id,))
                    else:
                        db.execute("INSERT OR REPLACE INTO refs VALUES (?, ?, ?)",
                                   (ref_id, blob, len(blob)))
                        db.execute("DELETE FROM forwards WHERE id = ?", (ref_id,))
                for ref_id, node in writes.forwards.items():
                    db.execute("INSERT OR REPLACE INTO forwards VALUES (?, ?)", (ref_id, node))
                for ref_id, node in writes.moves.items():
                    db.execute("INSERT OR REPLACE INTO moves VALUES (?, ?)", (ref_id, node))
                for ref_id in writes.moved:
                    db.execute("DELETE FROM moves WHERE id = ?", (ref_id,))

    def kept_for(self, program: str) -> list[tuple[str, bytes]]:
        """(kind, payload) kept for a program and its tasks (ids `program/...`), in order."""
        # ids `program/...` sort between `program/` and `program0` ('0' follows '/'): a range
        # of the primary key, not a scan of the table
        return self.db.execute("SELECT kind, payload FROM kept WHERE program = ? OR "
                               "(program > ? AND program < ?) ORDER BY seq",
                               (program, program + "/", program + "0")).fetchall()

    def forget_kept(self, before: float) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM kept WHERE at < ?", (before,))

    def pending_hops(self) -> list[tuple[str, str, bytes, bytes]]:
        return self.db.execute("SELECT hop_id, program, meta, data FROM inbox").fetchall()

    def unacked(self) -> list[tuple[str, str, bytes, bytes, float]]:
        return self.db.execute("SELECT hop_id, node, meta, data, sent_at FROM outbox").fetchall()

    def cancelled(self) -> list[str]:
        return [p for (p,) in self.db.execute("SELECT program FROM cancelled")]

    def deaths(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT program, count FROM deaths"))

    def fenced(self) -> list[str]:
        return [node for (node,) in self.db.execute("SELECT node FROM fenced")]

    def done_ids(self) -> list[str]:
        return [hop_id for (hop_id,) in self.db.execute("SELECT hop_id FROM done")]
