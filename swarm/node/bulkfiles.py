"""Large values beside the node's database: one file each, written once, read by mapping.

The store (store.py) keeps an encoded value or a hop's continuation of FILE_MIN bytes or more
in a file of `<node dir>/values/` rather than in a row: SQLite refuses a blob over 1 GB (its
default SQLITE_MAX_LENGTH), and a value of gigabytes in the write-ahead log would be written
twice and held by one transaction. The row keeps the file's name.

    name = files.write(parts)     # before the transaction that names it commits
    view = files.read(name)       # a read-only memoryview of a map of the file
    files.remove(names)           # after the transaction that dropped them commits
    files.sweep(keep)             # at start: files no row names (a crash between the two)
    files.made[name]              # the file's identity (os.fstat) as its writer left it

Discussion: a file is never written twice - each write has a new name - so a map of it that
a reader still holds (a numpy array made on it) never sees its bytes change; a removed file
stays readable through such a map until the last view of it goes (POSIX unlink). Files are
created read-only (mode 0400; the writer's descriptor alone may write, until it is closed):
nothing of the node opens one for writing again, and a process that would must chmod it
first, which changes its ctime - so a file whose identity (device, inode, size, mtime, ctime)
is still the one recorded when it was written holds the bytes written (bulkmaps.py relies on
this to let another node of the host map it). A file is written without fsync, like the
database (WAL with synchronous=NORMAL): a committed value survives the node's process being
killed, not a power cut.
"""

from __future__ import annotations

import mmap
import os
import secrets

FILE_MIN = 4 * 1024 * 1024  # encoded values from this size on are kept in files
_WRITE_AT_ONCE = 64 * 1024 * 1024  # bytes handed to one os.write (a view, never a copy)


def identity(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """What changes when a file's bytes (or its mode) change: device, inode, size, mtime and
    ctime in ns (no process can set a ctime back)."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class BulkFiles:
    def __init__(self, directory: str) -> None:
        self.dir = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)
        # name -> identity as written (files written since this process started)
        self.made: dict[str, tuple] = {}
        # name -> (identity, keyed digest) of files offered to nodes of this host (bulkmaps)
        self.seals: dict[str, tuple] = {}

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def write(self, parts) -> str:
        """Write the pieces of one value to a new file; its name."""
        return self.write_named(secrets.token_hex(12), parts)

    def write_named(self, name: str, parts) -> str:
        """Write a file under the name another store gave it (a mirror's copy: mirrors.py);
        one left by a write that did not commit is written again."""
        path = os.path.join(self.dir, name)
        if name not in self.made and os.path.exists(path):
            os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
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
        try:
            self.made[name] = identity(os.fstat(fd))
        finally:
            os.close(fd)
        return name

    def read(self, name: str) -> memoryview:
        """The file's bytes, mapped read-only (the map lives as long as a view of it)."""
        with open(os.path.join(self.dir, name), "rb") as f:
            return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))

    def remove(self, names) -> None:
        for name in names:
            self.made.pop(name, None)
            self.seals.pop(name, None)
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
