"""A commit's changes as a record the node's mirror replays on its copy of the store.

A node with a mirror (docs/nodes.md, "Copies of a node's store") records every commit
(store.Store.commit): the statements it ran, by number in STATEMENTS - never SQL text from
the network: a mirror runs only these - with their parameters; the files the commit wrote
(large values and continuations, bulkfiles.py), with their names; and what happened to the
rows that have files (so the copy removes the files its rows no longer name, as the store
does). Each record has a number, `seq`, one more than the last: the commit writes it in the
store itself (counters `mirror_seq`, by the last statement of the record), so a copy holds
the number of the last record it replayed in the same transaction as its changes.

    record = store.commit(txn)              # a Record when the store records, else None
    fields, blobs = record.message()        # the `mirror` message's control map and frames
    record = Record.from_message(fields, blobs)   # on the mirror: checked, or ValueError
    copy.apply(record)                      # store.Store.apply: True if it was the next one
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SEQ = "INSERT OR REPLACE INTO counters VALUES ('mirror_seq', ?)"

#: every statement a commit runs (store.Store._commit, _prune), by number
STATEMENTS = (
    "INSERT OR IGNORE INTO done (hop_id) VALUES (?)",
    "INSERT OR REPLACE INTO inbox (hop_id, program, meta, data, file) VALUES (?, ?, ?, ?, ?)",
    "DELETE FROM inbox WHERE hop_id = ?",
    "INSERT OR REPLACE INTO partial VALUES (?, ?)",
    "DELETE FROM partial WHERE hop_id = ?",
    "INSERT OR REPLACE INTO outbox (hop_id, node, meta, data, sent_at, file) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    "DELETE FROM outbox WHERE hop_id = ?",
    "INSERT OR REPLACE INTO kept VALUES (?, ?, ?, ?, ?)",
    "UPDATE done SET forget_at = ? WHERE hop_id = ?",
    "DELETE FROM done WHERE hop_id = ?",
    "INSERT OR IGNORE INTO cancelled VALUES (?, ?)",
    "INSERT OR REPLACE INTO deaths VALUES (?, ?)",
    "INSERT OR IGNORE INTO fenced VALUES (?, ?)",
    "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
    "DELETE FROM answers WHERE op = ?",
    "INSERT OR IGNORE INTO sources VALUES (?, ?, ?, ?)",
    "DELETE FROM refs WHERE id = ?",
    "INSERT OR REPLACE INTO refs (id, value, size, file) VALUES (?, ?, ?, ?)",
    "DELETE FROM forwards WHERE id = ?",
    "INSERT OR REPLACE INTO forwards VALUES (?, ?)",
    "INSERT OR REPLACE INTO moves VALUES (?, ?)",
    "DELETE FROM moves WHERE id = ?",
    "DELETE FROM kept WHERE at < ?",
    "DELETE FROM done WHERE forget_at <= ?",
    "DELETE FROM answers WHERE at < ?",
    SEQ,
    "INSERT OR REPLACE INTO heirs VALUES (?, ?, ?)",
    "INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)",
    "DELETE FROM blocks WHERE txn = ? AND kind = ?",
)
NUMBER = {sql: i for i, sql in enumerate(STATEMENTS)}
_PARAMS = [sql.count("?") for sql in STATEMENTS]
_SCALARS = (str, bytes, int, float, type(None))
FILE_NAME = re.compile(r"[0-9a-f]{24}")  # bulkfiles.BulkFiles.write's names
# statement number -> the place of its `file` parameter (the rows that may name a file)
_FILE_PARAM = {1: 4, 5: 5, 17: 3}
TABLES = ("refs", "inbox", "outbox")  # the tables whose rows may have a file


@dataclass
class Record:
    seq: int
    store: int = 0  # the id of the store it changes (Store.id)
    stmts: list = field(default_factory=list)  # [statement number, [params]]
    log: list = field(default_factory=list)  # [table, key, file name or None]
    files: list = field(default_factory=list)  # [(name, parts)]: written by the commit

    def message(self) -> tuple[dict, list]:
        """The `mirror` message: {seq, stmts, log, files: [name]}, a frame per file."""
        frames = [b"".join(bytes(memoryview(p).cast("B")) for p in parts)
                  if len(parts) != 1 else parts[0] for _, parts in self.files]
        return ({"seq": self.seq, "id": self.store, "stmts": self.stmts, "log": self.log,
                 "files": [name for name, _ in self.files]}, frames)

    @classmethod
    def from_message(cls, fields: dict, blobs: list) -> Record:
        """A record a peer sent, checked: known statements with the right number of plain
        parameters, files named as the store names them. ValueError says what is wrong."""
        if not all(isinstance(fields.get(k), list) for k in ("stmts", "log", "files")):
            raise ValueError("a record without its statements, log or files")
        names = fields["files"]
        if len(names) != len(blobs) or not files_named(names):
            raise ValueError("files do not match their frames, or are misnamed")
        for stmt in fields["stmts"]:
            if (not isinstance(stmt, list) or len(stmt) != 2 or type(stmt[0]) is not int
                    or not 0 <= stmt[0] < len(STATEMENTS) or not isinstance(stmt[1], list)
                    or len(stmt[1]) != _PARAMS[stmt[0]]
                    or not all(isinstance(p, _SCALARS) for p in stmt[1])):
                raise ValueError(f"a statement that is not one of a commit's: {stmt!r:.80}")
            at = _FILE_PARAM.get(stmt[0])  # (a row's file: a name the store could have made)
            if at is not None and stmt[1][at] is not None and not files_named([stmt[1][at]]):
                raise ValueError(f"a row naming a file that is not a store's: {stmt!r:.80}")
        for entry in fields["log"]:
            if (not isinstance(entry, list) or len(entry) != 3 or entry[0] not in TABLES
                    or not isinstance(entry[1], str)
                    or not (entry[2] is None or (isinstance(entry[2], str)
                                                 and FILE_NAME.fullmatch(entry[2])))):
                raise ValueError(f"a file entry that is malformed: {entry!r:.80}")
        return cls(fields["seq"], fields.get("id", 0), fields["stmts"], fields["log"],
                   [(n, [b]) for n, b in zip(names, blobs, strict=True)])


def files_named(names) -> bool:
    """Whether every name is one the store gives its files (nothing outside `values/`)."""
    return all(isinstance(n, str) and FILE_NAME.fullmatch(n) for n in names)


class Recording:
    """The store's connection during one commit, noting each statement into a Record."""

    def __init__(self, db, record: Record) -> None:
        self.db, self.record = db, record

    def execute(self, sql: str, params=()):
        self.record.stmts.append([NUMBER[sql], [_plain(p) for p in params]])
        return self.db.execute(sql, params)

    def executemany(self, sql: str, rows):
        rows = list(rows)
        number, stmts = NUMBER[sql], self.record.stmts
        for row in rows:
            stmts.append([number, [_plain(p) for p in row]])
        return self.db.executemany(sql, rows)


def _plain(p):
    """A parameter as msgpack sends it (a memoryview or bytearray as bytes)."""
    return p if isinstance(p, _SCALARS) else bytes(p)
