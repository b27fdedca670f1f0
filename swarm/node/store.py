"""The node's durable state, in one SQLite file (WAL mode).

Tables:
    refs(id, value, size, file)     the Refs that live here: their values encoded
                                    (swarm/wire/values.py), in the row, or from
                                    bulkfiles.FILE_MIN bytes on in the file it names
    forwards(id, node)              Refs that moved away: where to look next
    moves(id, node)                 relocations started and not yet confirmed by the new node
    inbox(hop_id, program, meta, data, file)   hops accepted (persisted before the ack) and not yet
                                    finished here; resumed again after a crash (a hop that
                                    moves on in the round it came is never written here)
    outbox(hop_id, node, meta, data, sent_at, file)   hops sent and not yet acknowledged; resent
                                    until acked, or until the hop timeout fails the program
    done(hop_id, forget_at)         hops already taken, so a resent one is resumed once
                                    (a client's submission is one too); `forget_at`: when
                                    the row goes (machine/ledger.py says when that is safe)
    kept(program, seq, kind, payload, at)   programs' output and results sent to clients
                                    from here, sent again on `collect?`; a week at most
                                    (KEPT_SECONDS)
    counters(name, value)           id allocation; `replay_cutoff`: the replay gate's cutoff
                                    (swarm/wire/gate.py), -1 while the node runs
    sources(hash, name, filename, source)   program code received (programs resumed after a
                                    restart need it)
    fenced(node, at)                nodes declared gone: refused for ever (swarm node gone)
    heirs(node, heir, routed)       fenced nodes whose store a mirror adopts (swarm node
                                    remove: machine/fences.py); routed once it has
    cancelled(program, at)          programs cancelled (swarm cancel): never run again here
    deaths(program, count)          how often the node died while a program ran (quarantine)
    partial(hop_id, refs)           inbox hops whose segment had Ref writes kept before its
                                    end (some of `refs`): not run again (machine/ledger.py)
    answers(op, node, reply, value, at)   questions of other nodes' programs
                                    answered here, by id: asked again, answered the same and
                                    not done again (machine/answers.py); a week at most
    blocks(txn, kind, record)       atomic blocks spanning nodes (machine/txn.py): `prepared`
                                    here (the Refs locked, the writes, the coordinator) and
                                    not yet committed or aborted; `decided` to commit by a
                                    program here (the nodes prepared) and not yet committed
                                    on all of them; `record` is msgpack (wire/control.py)

A large continuation (`data`) is kept in a file like a large value (`file`; `data` is then
empty). Files: swarm/node/bulkfiles.py, in `values/` beside the database.

Discussion: WAL with synchronous=NORMAL survives a process crash (SIGKILL) - every committed
transaction is in the log - though not a power cut; an acknowledged write is a committed one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time

from swarm.node.bulkfiles import FILE_MIN, BulkFiles
from swarm.node.machine.answers import ANSWER_KEPT
from swarm.node.records import SEQ, STATEMENTS, Record, Recording
from swarm.wire import control
from swarm.wire.values import nbytes, parts_of

log = logging.getLogger("swarm.node")

SCHEMA = """
CREATE TABLE IF NOT EXISTS refs (id TEXT PRIMARY KEY, value BLOB NOT NULL, size INTEGER,
                                 file TEXT);
CREATE TABLE IF NOT EXISTS forwards (id TEXT PRIMARY KEY, node TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inbox (hop_id TEXT PRIMARY KEY, program TEXT, meta BLOB, data BLOB,
                                  file TEXT);
CREATE TABLE IF NOT EXISTS outbox (hop_id TEXT PRIMARY KEY, node TEXT, meta BLOB, data BLOB,
                                   sent_at REAL, file TEXT);
CREATE TABLE IF NOT EXISTS done (hop_id TEXT PRIMARY KEY, forget_at REAL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS moves (id TEXT PRIMARY KEY, node TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kept (program TEXT, seq INTEGER, kind TEXT, payload BLOB,
                                 at REAL, PRIMARY KEY (program, kind, seq));
CREATE TABLE IF NOT EXISTS sources (hash TEXT PRIMARY KEY, name TEXT, filename TEXT, source TEXT);
CREATE TABLE IF NOT EXISTS fenced (node TEXT PRIMARY KEY, at REAL);
CREATE TABLE IF NOT EXISTS heirs (node TEXT PRIMARY KEY, heir TEXT NOT NULL,
                                  routed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cancelled (program TEXT PRIMARY KEY, at REAL);
CREATE TABLE IF NOT EXISTS deaths (program TEXT PRIMARY KEY, count INTEGER);
CREATE TABLE IF NOT EXISTS partial (hop_id TEXT PRIMARY KEY, refs TEXT);
CREATE TABLE IF NOT EXISTS answers (op TEXT PRIMARY KEY, node TEXT, reply BLOB, value BLOB,
                                    at REAL);
CREATE TABLE IF NOT EXISTS blocks (txn TEXT, kind TEXT, record BLOB, PRIMARY KEY (txn, kind));
"""


KEPT_SECONDS = 7 * 24 * 3600.0  # how long programs' output and results are kept (collect?)
PRUNE_SECONDS = 60.0  # how often a commit also removes the `kept` and `done` rows whose time
# passed (the machine drops its `done` entries itself, and has them removed as it does)

_FILE_TABLES = ("refs", "inbox", "outbox")


def _flat(value) -> bytes | None:
    """An encoded value as one bytes (values.py: it may be in parts)."""
    return value.flat() if hasattr(value, "flat") else value
_KEYS = {"refs": "id", "inbox": "hop_id", "outbox": "hop_id"}


def install_copy(path: str, image: bytes, files) -> None:
    """Make `path` (a store's database, closed) the copy a snapshot holds (Store.snapshot):
    its files first, then the database, replaced in one rename - a crash leaves the old one
    or the new one. The old one's write-ahead log goes first: SQLite would replay it on the
    new database."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    values = BulkFiles(os.path.join(directory, "values"))
    for name, data in files:
        values.write_named(name, [data])
    tmp = f"{path}.copy"
    with open(tmp, "wb") as f:
        f.write(image)
        f.flush()
        os.fsync(f.fileno())
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + suffix)
    os.replace(tmp, path)


class Store:
    def __init__(self, path: str, record: bool = False) -> None:
        """`record`: commits return a Record of their changes, for a mirror (records.py)."""
        self.path, self.record = path, record
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            self.db.executescript(SCHEMA)
        except sqlite3.OperationalError:
            # a full disk: the tables are there already (a store that ever ran), or the
            # error is real and the next statement says so
            self.db.execute("SELECT 1 FROM refs LIMIT 1")
        for table, column in [*((t, "file TEXT") for t in _FILE_TABLES),
                              ("done", "forget_at REAL")]:  # a store made before them
            columns = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            if column.split()[0] not in columns:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
        self.next_prune = 0.0
        self.files = BulkFiles(os.path.join(os.path.dirname(os.path.abspath(path)), "values"))
        # (table, key) -> the file of that row: few rows have one, and a row's file must be
        # removed when the row goes without a query per deleted row
        self.file_of: dict[tuple[str, str], str] = {}
        for table in _FILE_TABLES:
            for key, name in self.db.execute(
                    f"SELECT {_KEYS[table]}, file FROM {table} WHERE file IS NOT NULL"):
                self.file_of[table, key] = name
        self.files.sweep(set(self.file_of.values()))
        # the hops with a `partial` row (few, rarely any): a commit deletes the rows of the
        # hops that finished only when one has a row - one statement less per group commit
        # for hops that wrote no Ref. None: not known (a copy replaying records: apply)
        self.partial_ids: set[str] | None = {
            h for (h,) in self.db.execute("SELECT hop_id FROM partial")}
        counters = dict(self.db.execute("SELECT name, value FROM counters WHERE name IN "
                                        "('mirror_seq', 'store_id', 'born')"))
        self.seq = counters.get("mirror_seq", 0)  # the last record made (a copy: replayed)
        # which store this is (its copies are of it: mirrors.py), and whether the node has
        # taken it for its own (restore.py: a store made at a start that did not get that
        # far is still new)
        self.id = counters.get("store_id", 0)
        self.born = "born" in counters

    def close(self) -> None:
        self.db.close()

    def is_empty(self) -> bool:
        """Nothing a node ever kept: no Ref, hop, result or taken hop."""
        return not any(self.db.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()
                       for t in ("refs", "inbox", "outbox", "kept", "done"))

    def be_born(self) -> None:
        """The node takes this store for its own, under a new id (its mirror's copy of an
        older store of the same node is then replaced: mirrors.py)."""
        store_id = int.from_bytes(os.urandom(7), "big") or 1
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO counters VALUES (?, ?)",
                                [("store_id", store_id), ("born", 1)])
        self.id, self.born = store_id, True

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
        marked as running until `stop_replay_guard`. A store that cannot write now (a full
        disk) starts with `now_ms` - as after a crash: nothing older is taken."""
        row = self.db.execute("SELECT value FROM counters WHERE name = 'replay_cutoff'"
                              ).fetchone()
        try:
            with self.transaction():
                self.db.execute("INSERT OR REPLACE INTO counters VALUES ('replay_cutoff', -1)")
        except sqlite3.Error:
            return now_ms
        return 0 if row is None else now_ms if row[0] < 0 else row[0]

    def stop_replay_guard(self, cutoff_ms: int) -> None:
        try:
            with self.transaction():
                self.db.execute("INSERT OR REPLACE INTO counters VALUES ('replay_cutoff', ?)",
                                (cutoff_ms,))
        except sqlite3.Error as e:  # (a full disk: the next start takes nothing older, as
            log.warning("the replay cutoff was not written (%s): the next start takes "
                        "nothing older than it would after a crash", e)

    # refs -----------------------------------------------------------------------------------
    def get_ref(self, ref_id: str):
        """The encoded value (bytes, or a read-only map of its file), None if not here."""
        row = self.db.execute("SELECT value, file FROM refs WHERE id = ?", (ref_id,)).fetchone()
        if row is None:
            return None
        return self.files.read(row[1]) if row[1] else row[0]

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

    def all_refs(self):
        """(id, encoded value) of every Ref here, futures' results too (a collection's mark)."""
        for ref_id, value, name in self.db.execute("SELECT id, value, file FROM refs"):
            yield ref_id, self.files.read(name) if name else value

    def moves_under_way(self) -> list[str]:
        return [ref_id for (ref_id,) in self.db.execute("SELECT id FROM moves")]

    def held_blobs(self):
        """Every hop taken and not finished, sent and not acknowledged, and every kept
        output and result here: what a collection's mark counts as held by programs."""
        for table, column in (("inbox", "data"), ("outbox", "data"), ("kept", "payload")):
            has_file = table in _FILE_TABLES
            rows = self.db.execute(f"SELECT {column}, file FROM {table}" if has_file else
                                   f"SELECT {column}, NULL FROM {table}")
            for blob, name in rows:
                yield self.files.read(name) if name else blob

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

    def commit(self, txn) -> Record | None:
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
        its `done` mark, before it is acknowledged.

        A recording store returns the commit's Record (records.py), numbered `seq`."""
        now = time.time()
        record = Record(self.seq + 1, self.id) if self.record else None
        db = self.db if record is None else Recording(self.db, record)
        finished = set(txn.finished)
        # what happened to rows that have or get a file, in order: (table, key, new file
        # or None when the row went), replayed on file_of once committed
        log: list[tuple[str, str, str | None]] = []

        def put(table: str, key: str, blob) -> tuple:
            """(the row's value, its file): a large one is written to a file first."""
            if nbytes(blob) < FILE_MIN:
                if (table, key) in self.file_of:
                    log.append((table, key, None))
                return (blob.flat() if hasattr(blob, "flat") else blob), None
            parts = parts_of(blob)
            name = self.files.write(parts)
            log.append((table, key, name))
            if record is not None:
                record.files.append((name, parts))
            return b"", name

        def dropped(table: str, key: str) -> None:
            log.append((table, key, None))

        prune = now >= self.next_prune
        try:
            with self.transaction():
                self._commit(txn, db, now, finished, put, dropped, self.partial_ids)
                if prune:
                    self._prune(db, now)
                if record is not None:
                    db.execute(SEQ, (record.seq,))
        except BaseException:
            self.files.remove(name for _, _, name in log if name)  # nothing names them
            raise
        if self.partial_ids is not None and (txn.partial or txn.finished):
            self.partial_ids.difference_update(finished)
            self.partial_ids.update(h for h in txn.partial if h not in finished)
        if prune:
            self.next_prune = now + PRUNE_SECONDS
        if record is not None:
            self.seq = record.seq
            record.log = [list(entry) for entry in log]
        self._files_changed(log)
        return record

    def apply(self, record: Record) -> bool:
        """Replay a record on this copy (mirrors.py) if it is the next one: False if not."""
        if record.seq != self.seq + 1:
            return False
        self.partial_ids = None  # (the record's statements are not read here)
        names = [self.files.write_named(name, parts) for name, parts in record.files]
        try:
            with self.transaction():
                for number, params in record.stmts:
                    self.db.execute(STATEMENTS[number], params)
        except BaseException:
            self.files.remove(names)
            raise
        self.seq = record.seq
        self._files_changed([tuple(entry) for entry in record.log])
        return True

    def snapshot(self) -> tuple[int, bytes, list]:
        """(seq, the database's bytes, [(file name, its bytes mapped)]): a copy of the whole
        store as it is now, between two commits (mirrors.py)."""
        memory = sqlite3.connect(":memory:")
        try:
            self.db.backup(memory)
            image = memory.serialize()
        finally:
            memory.close()
        return self.seq, image, [(name, self.files.read(name))
                                 for name in sorted(set(self.file_of.values()))]

    def _files_changed(self, log) -> None:
        """Replay a commit's file log on file_of, and remove the files no row names now."""
        file_of, gone = self.file_of, []
        for table, key, name in log:
            old = file_of.pop((table, key), None)
            if old is not None:
                gone.append(old)
            if name is not None:
                file_of[table, key] = name
        self.files.remove(gone)

    @staticmethod
    def _commit(txn, db, now, finished, put, dropped, partial_ids=None) -> None:
        """The statements of one commit (see commit). `partial_ids`: the hops with a
        `partial` row before it (None: not known)."""
        for hop_id, (program, meta, data) in txn.accepted.items():
            db.execute("INSERT OR IGNORE INTO done (hop_id) VALUES (?)", (hop_id,))
            if hop_id not in finished:
                db.execute("INSERT OR REPLACE INTO inbox (hop_id, program, meta, data, file) "
                           "VALUES (?, ?, ?, ?, ?)",
                           (hop_id, program, meta, *put("inbox", hop_id, data)))
        for hop_id in txn.finished:
            if hop_id not in txn.accepted:
                db.execute("DELETE FROM inbox WHERE hop_id = ?", (hop_id,))
                dropped("inbox", hop_id)
        if txn.partial:
            db.executemany("INSERT OR REPLACE INTO partial VALUES (?, ?)",
                           [(h, " ".join(refs)) for h, refs in txn.partial.items()
                            if h not in finished])
        if txn.finished and (partial_ids is None or not partial_ids.isdisjoint(finished)):
            db.executemany("DELETE FROM partial WHERE hop_id = ?",
                           [(h,) for h in txn.finished])
        for hop_id, node, meta, data in txn.outgoing:
            value, name = put("outbox", hop_id, data)
            db.execute("INSERT OR REPLACE INTO outbox (hop_id, node, meta, data, sent_at, "
                       "file) VALUES (?, ?, ?, ?, ?, ?)", (hop_id, node, meta, value, now, name))
        if txn.acked:
            db.executemany("DELETE FROM outbox WHERE hop_id = ?", [(h,) for h in txn.acked])
            for hop_id in txn.acked:
                dropped("outbox", hop_id)
        if txn.kept:
            db.executemany("INSERT OR REPLACE INTO kept VALUES (?, ?, ?, ?, ?)",
                           [(*k, now) for k in txn.kept])
        if txn.forgetting:
            db.executemany("UPDATE done SET forget_at = ? WHERE hop_id = ?",
                           [(at, h) for h, at in txn.forgetting])
        if txn.forgotten:
            db.executemany("DELETE FROM done WHERE hop_id = ?", [(h,) for h in txn.forgotten])
        if txn.cancelled:
            db.executemany("INSERT OR IGNORE INTO cancelled VALUES (?, ?)",
                           [(p, now) for p in txn.cancelled])
        if txn.deaths:
            db.executemany("INSERT OR REPLACE INTO deaths VALUES (?, ?)",
                           list(txn.deaths.items()))
        if txn.fences:
            db.executemany("INSERT OR IGNORE INTO fenced VALUES (?, ?)",
                           [(n, now) for n in txn.fences])
        if txn.heirs:
            db.executemany("INSERT OR REPLACE INTO heirs VALUES (?, ?, ?)",
                           [(n, heir, int(routed)) for n, (heir, routed) in txn.heirs.items()])
        if txn.answers:
            db.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
                           [(op, node, reply, _flat(value), at) for
                            op, (node, reply, value, at) in txn.answers.items()])
        if txn.unanswered:
            db.executemany("DELETE FROM answers WHERE op = ?", [(op,) for op in txn.unanswered])
        if txn.sources:
            db.executemany("INSERT OR IGNORE INTO sources VALUES (?, ?, ?, ?)",
                           [(h, *v) for h, v in txn.sources.items()])
        writes = txn.writes
        if writes:
            for ref_id, blob in writes.values.items():
                if blob is None:
                    db.execute("DELETE FROM refs WHERE id = ?", (ref_id,))
                    dropped("refs", ref_id)
                else:
                    value, name = put("refs", ref_id, blob)
                    db.execute("INSERT OR REPLACE INTO refs (id, value, size, file) "
                               "VALUES (?, ?, ?, ?)", (ref_id, value, nbytes(blob), name))
                    db.execute("DELETE FROM forwards WHERE id = ?", (ref_id,))
            for ref_id, node in writes.forwards.items():
                db.execute("INSERT OR REPLACE INTO forwards VALUES (?, ?)", (ref_id, node))
            for ref_id, node in writes.moves.items():
                db.execute("INSERT OR REPLACE INTO moves VALUES (?, ?)", (ref_id, node))
            for ref_id in writes.moved:
                db.execute("DELETE FROM moves WHERE id = ?", (ref_id,))
            for (kind, txn_id), record in writes.blocks.items():
                if record is None:
                    db.execute("DELETE FROM blocks WHERE txn = ? AND kind = ?", (txn_id, kind))
                else:
                    db.execute("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)",
                               (txn_id, kind, control.encode(record)))

    @staticmethod
    def _prune(db, now: float) -> None:
        """Rows whose time passed: output and results older than KEPT_SECONDS, and `done`
        rows the machine forgot (after a restart it knows only those it loaded)."""
        db.execute("DELETE FROM kept WHERE at < ?", (now - KEPT_SECONDS,))
        db.execute("DELETE FROM done WHERE forget_at <= ?", (now,))
        db.execute("DELETE FROM answers WHERE at < ?", (now - ANSWER_KEPT,))

    def kept_for(self, program: str) -> list[tuple[str, bytes]]:
        """(kind, payload) kept for a program and its tasks (ids `program/...`), in order."""
        # ids `program/...` sort between `program/` and `program0` ('0' follows '/'): a range
        # of the primary key, not a scan of the table
        return self.db.execute("SELECT kind, payload FROM kept WHERE program = ? OR "
                               "(program > ? AND program < ?) ORDER BY seq",
                               (program, program + "/", program + "0")).fetchall()

    def prune(self, now: float) -> None:
        """_prune now, in a transaction of its own (at start)."""
        try:
            with self.transaction():
                self._prune(self.db, now)
        except sqlite3.Error as e:  # (a full disk: kept a while longer)
            log.warning("old hops and results were not pruned (%s): tried again later", e)

    def pending_hops(self) -> list[tuple[str, str, bytes, bytes]]:
        return [(h, p, meta, self.files.read(name) if name else data) for h, p, meta, data, name
                in self.db.execute("SELECT hop_id, program, meta, data, file FROM inbox")]

    def unacked(self) -> list[tuple[str, str, bytes, bytes, float]]:
        return [(h, n, meta, self.files.read(name) if name else data, at)
                for h, n, meta, data, at, name in self.db.execute(
                    "SELECT hop_id, node, meta, data, sent_at, file FROM outbox")]

    def cancelled(self) -> list[str]:
        return [p for (p,) in self.db.execute("SELECT program FROM cancelled")]

    def deaths(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT program, count FROM deaths"))

    def partial(self) -> dict[str, list[str]]:
        return {h: refs.split() for h, refs in self.db.execute("SELECT * FROM partial")}

    def answers(self) -> list[tuple]:
        """The questions answered here by id, kept (machine/answers.py)."""
        return self.db.execute("SELECT * FROM answers").fetchall()

    def blocks(self) -> list[tuple]:
        """[(kind, block, record)]: atomic blocks prepared here, or decided here to commit,
        and not finished (machine/txn.py: Txns.restore)."""
        return [(kind, txn_id, control.decode(record)) for txn_id, kind, record in
                self.db.execute("SELECT txn, kind, record FROM blocks")]

    def fenced(self) -> list[str]:
        return [node for (node,) in self.db.execute("SELECT node FROM fenced")]

    def heirs(self) -> dict[str, tuple[str, bool]]:
        return {node: (heir, bool(routed)) for node, heir, routed in
                self.db.execute("SELECT node, heir, routed FROM heirs")}

    def done_ids(self) -> list[str]:
        """The hops taken here that stay until a sender says they may go."""
        return [hop_id for (hop_id,) in self.db.execute(
            "SELECT hop_id FROM done WHERE forget_at IS NULL")]

    def forgetting(self) -> list[tuple[str, float]]:
        """(hop id, when it goes) of the other hops taken here."""
        return self.db.execute("SELECT hop_id, forget_at FROM done WHERE forget_at IS NOT NULL"
                               ).fetchall()
