"""Compiled modules kept on disk, as CPython keeps bytecode in `__pycache__`.

Compiling costs tens of times what CPython's own compile() does (the passes are Python
walking the tree; docs/continuations.md, Measured). A module compiled once is saved with
`marshal` and loaded the next time the same source is compiled under the same file name - by
the next `swarm run`, by a node that restarts, by the other nodes of a local cluster.

Where: `$SWARM_COMPILE_CACHE`, else `$XDG_CACHE_HOME/swarm/compiled`, else
`~/.cache/swarm/compiled`; `SWARM_COMPILE_CACHE=off` turns it off. One file per source file,
as in `__pycache__`: named by the SHA-256 of the file name (it is in the code objects), the
module name, the compiler's and the continuation runtime's own source and the interpreter's
version (marshal's format and the bytecode are the interpreter's); it holds the source's hash
and is used only when that matches, and the next version of the source replaces it. A file is
written to a temporary name and renamed, so readers never see half of one; one that cannot be
read or decoded is compiled again, and a directory that cannot be written only costs the
saving - said once per process on its stderr (the directory and the error: read-only, its
parent not a directory, a full disk...), then the process goes on without saving.

Discussion: the files are trusted as the interpreter trusts `__pycache__`: whoever can write
to the user's cache directory can also change the user's installed code.

Discussion: a module with a frozenset constant whose order marshal does not keep (`for n in
{5, 3, 9, 1}` iterates 9, 3, 5, 1 compiled and 1, 3, 5, 9 loaded - CPython's own .pyc files
do the same) is not saved: the program must iterate as it does run natively, and as it did
in the process it came from.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path
from types import CodeType

from swarm.compiler.compiled import CompiledModule, PointInfo

#: 6: top-level temporaries in `__swarm_temps__`, `import *` a call; 5: resumers built when
#: first needed (None until then); 4: inlined comprehensions
FORMAT = 6
_PACKAGES = ("compiler", "continuation", "skywriting")
_version: str | None = None
_warned = False  # a save failed in this process, and stderr was told (once)


def directory() -> Path | None:
    """The cache directory, or None when it is turned off."""
    chosen = os.environ.get("SWARM_COMPILE_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "swarm" / "compiled"


def _code_version() -> str:
    """A digest of the code that decides what compiling produces (read once a process)."""
    global _version
    if _version is None:
        h = hashlib.sha256(f"{FORMAT} {sys.version}".encode())
        root = Path(__file__).resolve().parent.parent
        for package in _PACKAGES:
            for path in sorted((root / package).glob("*.py")):
                h.update(path.name.encode())
                h.update(path.read_bytes())
        _version = h.hexdigest()
    return _version


def _path(filename: str, name: str) -> Path | None:
    where = directory()
    if where is None:
        return None
    key = hashlib.sha256("\0".join((filename, name, _code_version())).encode())
    return where / f"{key.hexdigest()}.bin"


def _order_kept(value) -> bool:
    """Do the frozensets among these constants iterate in the same order after marshal?"""
    if isinstance(value, CodeType):
        return all(_order_kept(c) for c in value.co_consts)
    if isinstance(value, tuple):
        return all(_order_kept(c) for c in value)
    if isinstance(value, frozenset):
        return list(marshal.loads(marshal.dumps(value))) == list(value) and all(
            _order_kept(c) for c in value)
    return True


def load(source: str, digest: str, filename: str, name: str) -> CompiledModule | None:
    """The module compiled from this source before, if it was saved; else None."""
    path = _path(filename, name)
    if path is None:
        return None
    try:
        data = marshal.loads(path.read_bytes())
        saved_digest, code, resumers, points, temp_names, live_temps, callees, sites, gens \
            = data
        if saved_digest != digest:
            return None
        return CompiledModule(
            name=name, filename=filename, source=source, source_hash=digest, code=code,
            resumers=resumers, points={p: PointInfo(*info) for p, info in points.items()},
            temp_names=temp_names, live_temps=live_temps, callees=callees, sites=sites,
            gens=gens)
    except (OSError, ValueError, EOFError, TypeError):
        return None


def save(compiled: CompiledModule) -> None:
    """Keep a compiled module for the next time (nothing if it cannot be written: the first
    such failure in a process is told on its stderr, see _cannot_save)."""
    path = _path(compiled.filename, compiled.name)
    if path is None:
        return
    codes = [compiled.code, *{id(c): c for c in (compiled.resumers or {}).values()}.values()]
    if not all(_order_kept(c) for c in codes):
        return
    points = {p: (i.function, i.filename, i.line, i.col) for p, i in compiled.points.items()}
    data = marshal.dumps((compiled.source_hash, compiled.code, compiled.resumers, points, compiled.temp_names,
                          compiled.live_temps, compiled.callees, compiled.sites,
                          compiled.gens))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:
        _cannot_save(path.parent, e)


def _cannot_save(where: Path, error: OSError) -> None:
    """Say once per process that compiled modules are not kept, and why.

    Discussion: the process's own stderr (sys.__stderr__), not sys.stderr: on a node,
    sys.stderr is the running program's output, sent to its client, and the cache is the
    node's business (its log has it). Once: every module compiled after it would fail the
    same way, and a program compiling hundreds of modules should not print hundreds of
    lines; nothing is wrong with what runs - it is only compiled again the next time."""
    global _warned
    if _warned:
        return
    _warned = True
    stream = sys.__stderr__ or sys.stderr
    reason = error.strerror or str(error)
    try:
        stream.write(f"swarm: compiled modules are not kept: the compile cache {where} cannot "
                     f"be written ({type(error).__name__}: {reason}); they are compiled again "
                     f"in each process (set SWARM_COMPILE_CACHE to a writable directory, or "
                     f"to off)\n")
        stream.flush()
    except (OSError, ValueError):  # (no stderr to tell: a daemon's closed stream)
        pass
