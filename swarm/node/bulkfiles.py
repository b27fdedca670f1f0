"""Large values beside the node's database: one file each, written once, read by mapping.

The store (store.py) keeps an encoded value or a hop's continuation of FILE_MIN bytes or more
in a file of `<node dir>/values/` rather than in a row: SQLite refuses a blob over 1 GB (its
default SQLITE_MAX_LENGTH), and a value of gigabytes in the write-ahead log would be written
twice and held by one transaction. The row keeps the file's name.

    name = files.write(parts)     # before the transaction that names it commits
    view = files.read(name)       # a read-only memoryview of a map of the file
    files.remove(names)           # after the transaction that dropped them commits
    files.sweep(keep)             # at start: files no row names (a crash between the two)

Discussion: a file is never written twice - each write has a new name - so a map of it that
a reader still holds (a numpy array made on it) never sees its bytes change; a removed file
stays readable through such a map until the last view of it goes (POSIX unlink). A file is
written without fsync, like the database (WAL with synchronous=NORMAL): a committed value
survives the node's process being killed, not a power cut.
"""

from __future__ import annotations

import mmap
import os
import secrets

FILE_MIN = 4 * 1024 * 1024  # encoded values from this size on are kept in files
_WRITE_AT_ONCE = 64 * 1024 * 1024  # bytes handed to one os.write (a view, never a copy)


class BulkFiles:
    def __init__(self, directory: str) -> None:
        self.dir = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)

    def write(self, parts) -> str:
        """Write the pieces of one value to a new file; its name."""
        name = secrets.token_hex(12)
        path = os.path.join(self.dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            for part in parts:
                view = memoryview(part).cast("B")
                while view:
                    done = os.write(fd, view[:_WRITE_AT_ONCE])
                    view = view[done:]
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        os.close(fd)
        return name

    def read(self, name: str) -> memoryview:
        """The file's bytes, mapped read-only (the map lives as long as a view of it)."""
        with open(os.path.join(self.dir, name), "rb") as f:
            return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))

    def remove(self, names) -> None:
        for name in names:
            try:
                os.unlink(os.path.join(self.dir, name))
            except FileNotFoundError:
                pass

    def sweep(self, keep: set[str]) -> int:
        """Remove the files no row names (written for a transaction that never committed,
        or dropped by one whose removal a crash cut short); how many."""
        gone = [n for n in os.listdir(self.dir) if n not in keep]
        self.remove(gone)
        return len(gone)
