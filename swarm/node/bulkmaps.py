"""A large value fetched from a node of the same host: its store file mapped, not sent.

A value of bulkfiles.FILE_MIN bytes or more lives in a file beside its node's database. When
a program fetches such a value (the fetch policy) from a node that runs on the same host and
sees the same files, the answer names the file instead of carrying its bytes; the asking
node maps it read-only and decodes the value over the mapping (a numpy array is made on the
mapped memory: no copy, read-only, as every shared array of a Ref).

    HOST                                   # this process's host, as far as files go
    offer = seal(files, key, name)         # the owner: what it tells the asker (a dict)
    view = Mapper(config, key).open(peer, offer)   # the asker: a read-only map, checked

The asker sends its HOST with the question; the owner offers its file only when that is its
own HOST and the value is on disk (no write of it staged or in flight); anything refused on
the asker's side (MapRefused: the file is gone, changed, or not the one offered) is logged
naming the Ref, the file and why, and the value is fetched again as bytes.

Discussion: what makes "the same host" and what is checked.
- HOST is the machine id, the boot id and the mount namespace: two processes with all three
  equal resolve a path to the same file. Nodes in containers (or `ip netns exec`, which
  unshares the mount namespace) differ, and fetch as across hosts - the old path.
- Nothing of a path comes from the wire: the offer names a file (24 hex digits, as
  BulkFiles names them), looked for only in the `values/` directory of the owner's `dir` in
  the cluster file, opened without following a symlink.
- The owner seals a file the first time it offers it: its identity (device, inode, size,
  mtime and ctime in ns, bulkfiles.identity) and a keyed BLAKE3 digest of its bytes (the key
  derived from the cluster secret). A file whose identity is no longer the one it had when
  written (since this process started) is not offered.
- The asker opens the file, refuses it unless its identity is the sealed one, maps it, and
  checks the digest the first time it maps that identity in this process. Later maps of the
  same identity are not hashed again: hashing 100 MiB takes 17-36 ms (BLAKE3, 1-2 cores),
  several times the whole fetch, and the file cannot have changed without its identity
  changing - files are written once, under new names, created read-only (0400), and a
  process that writes one must open it for writing, which needs a chmod, which changes its
  ctime; no process can set a ctime back. What is left is what the owner itself trusts when
  it reads its own files (store.py maps them): a process of the node's user writing through
  a descriptor it opened before (or root), or a change within one timestamp tick on a kernel
  without fine-grained timestamps. Both sides' digests are computed once per file, not per
  fetch (the first fetch of a file costs two hashes).
- The file may be removed (the Ref set again, deleted, relocated, the owner's sweep) at any
  time: a map already made stays valid (POSIX unlink); a file removed before the asker opens
  it is refused (gone) and the value is fetched as bytes - the newer value, as any read that
  follows a write.
"""

from __future__ import annotations

import collections
import mmap
import os
import re
import stat

import blake3

from swarm.node.bulkfiles import BulkFiles, identity

_CONTEXT = "swarm bulk file digest 2026-12"
_NAME = re.compile(r"[0-9a-f]{24}\Z")
_VERIFIED_KEPT = 1024  # identities whose digest this process checked (least recent go)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def host_id() -> str | None:
    """This process's host as far as files go: machine id, boot id, mount namespace (None
    when one of them cannot be read: such a node never maps another's files)."""
    machine = _read("/etc/machine-id") or _read("/var/lib/dbus/machine-id")
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        mounts = os.readlink("/proc/self/ns/mnt")
    except OSError:
        mounts = ""
    if not (machine and boot and mounts):
        return None
    return f"{machine}/{boot}/{mounts}"


HOST = host_id()


class MapRefused(Exception):
    """A value's file could not be mapped: gone, changed, or not the one offered."""


def digest_key(secret: bytes | None) -> bytes:
    return blake3.blake3(secret or b"", derive_key_context=_CONTEXT).digest()


def _digest(key: bytes, view) -> str:
    return blake3.blake3(view, key=key, max_threads=blake3.blake3.AUTO).hexdigest()


def _open(path: str) -> tuple[int, os.stat_result]:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        os.close(fd)
        raise MapRefused(f"{path} is not a regular file with bytes in it")
    return fd, st


def seal(files: BulkFiles, key: bytes, name: str) -> dict:
    """The owner's offer of one of its files: {name, length, ident, digest}. Sealed (hashed)
    the first time, then remembered until the file is removed. MapRefused if the file is not
    as it was written."""
    sealed = files.seals.get(name)
    if sealed is None:
        path = files.path(name)
        try:
            fd, st = _open(path)
        except OSError as e:
            raise MapRefused(f"cannot open {path}: {e}") from None
        try:
            ident = identity(st)
            made = files.made.get(name)
            if made is not None and made != ident:
                raise MapRefused(f"{path} changed since it was written (identity {made} -> "
                                 f"{ident})")
            with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mm:
                digest = _digest(key, mm)
            if identity(os.fstat(fd)) != ident:
                raise MapRefused(f"{path} changed while it was hashed")
        finally:
            os.close(fd)
        sealed = files.seals[name] = (ident, digest)
    ident, digest = sealed
    return {"name": name, "length": ident[2], "ident": list(ident), "digest": digest}


class Mapper:
    """The asker's side: opens, checks and maps the files other nodes of the host offer."""

    def __init__(self, dirs: dict[str, str], key: bytes) -> None:
        """`dirs`: node name -> its `dir` in the cluster file."""
        self.dirs = {name: os.path.join(os.path.abspath(d), "values") for name, d in dirs.items()}
        self.key = key
        self.verified: collections.OrderedDict[tuple, str] = collections.OrderedDict()

    def open(self, peer: str, offer: dict) -> memoryview:
        """A read-only view of the map of the file `peer` offered; MapRefused, saying why,
        if it is not the file offered as it was sealed."""
        name = offer["name"]
        directory = self.dirs.get(peer)
        if directory is None or not _NAME.match(name):
            raise MapRefused(f"{peer} offered {name!r}, not a file of its store")
        path = os.path.join(directory, name)
        try:
            fd, st = _open(path)
        except FileNotFoundError:
            raise MapRefused(f"{path} is gone (the Ref was set again, deleted or moved "
                             f"since {peer} answered)") from None
        except OSError as e:
            raise MapRefused(f"cannot open {path}: {e}") from None
        try:
            ident = identity(st)
            offered = tuple(offer["ident"])
            if ident != offered or st.st_size != offer["length"]:
                raise MapRefused(f"{path} is not the file {peer} sealed: identity (device, "
                                 f"inode, size, mtime, ctime) {ident}, sealed {offered} - "
                                 f"changed or replaced since")
            view = memoryview(mmap.mmap(fd, 0, access=mmap.ACCESS_READ))
        finally:
            os.close(fd)
        if self.verified.get(ident) == offer["digest"]:
            self.verified.move_to_end(ident)
            return view
        if _digest(self.key, view) != offer["digest"]:
            view.release()
            raise MapRefused(f"{path}: its keyed digest is not the one {peer} sealed")
        self.verified[ident] = offer["digest"]
        while len(self.verified) > _VERIFIED_KEPT:
            self.verified.popitem(last=False)
        return view
