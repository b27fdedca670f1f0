"""The codec: a Continuation (or a Ref's value) to bytes and back.

C `pickle` first; `dill` only for the objects pickle refuses (functions and classes of
non-compiled code defined in odd places, and the like). How each kind of value pickles is in
reductions.py (compiled user code never travels as bytecode), what rebuilds it in
rebuilders.py, why a continuation does not pickle in explain.py.

Values known not to migrate - open files, locks, sockets - are refused with NotMigratable
naming the variable, function, file and line, even where dill could pickle them: a
continuation must never resume with a silently different object.

Byte layout of an encoded continuation:

    | 4 bytes  | magic: b"SWC4" (C pickle) or b"SWD4" (dill)   |
    | rest     | the pickle of (frames, op, process state)     |

(or b"SWH4" when large values go by their content hash: contentaddr.py). The digit is the
format's version: it changes whenever bytes of one version would not decode right in another
(a rebuilder or a class the pickle names moved), and `decode` refuses another version's bytes
by name instead of failing inside the unpickler.

The compiled modules it carries are named inside the pickle (name, source hash); `encode`
also returns them, for the hop's metadata, so a receiver can fetch missing sources first.

Only `swarm.wire` will unpickle bytes from the network, after checking their signature; this
module is where that unpickling is implemented.
"""

from __future__ import annotations

import builtins
import io
import pickle
from types import ModuleType

import dill

from swarm.continuation import contentaddr
from swarm.continuation.capture import Continuation
from swarm.continuation.errors import NotMigratable
from swarm.continuation.explain import explain
from swarm.continuation.primitives import no_capture
from swarm.continuation.reductions import (
    KINDS,
    LOCK,
    PROTOCOL,
    REFUSE,
    DillPickler,
    Pickler,
    Refused,
    compiled_of,
    dump,
    held,
    kind_of,
    payload_frames,
)

MAGIC = {"pickle": b"SWC4", "dill": b"SWD4"}


class _TouchedProgram(Exception):
    """Internal: a large value refers to the program's own code (it cannot go by hash)."""


class _BlobPickler(Pickler):
    """Pickles one large value alone (contentaddr.py); refuses values that refer to a
    compiled module (they travel with the continuation)."""

    def reducer_override(self, obj):
        if type(obj) is ModuleType and compiled_of(obj) is not None:
            raise _TouchedProgram()
        return Pickler.reducer_override(self, obj)


class _HashRefPickler(Pickler):
    """The continuation's pickler when large values go by hash: they become persistent ids."""

    def __init__(self, file, generators, modules, parked, by_id: dict) -> None:
        Pickler.__init__(self, file, generators, modules, parked)
        self.by_id = by_id

    def persistent_id(self, obj):
        return self.by_id.get(id(obj))


_OWN_GLOBALS: dict = {}  # (module, name) -> object, for the modules of swarm itself


class _Unpickler(pickle.Unpickler):
    """The C unpickler, with the globals a continuation names looked up faster.

    Discussion: pickle looks a global up by importing its module - `__import__` with a
    fromlist, even when the module is loaded - then its attribute: 2-4 us each, and a
    continuation names about ten (its rebuilders, Frame, the op's class, builtins), half
    the time of decoding a small one. swarm's own modules are never reloaded nor patched
    by programs, so their globals are kept once found; builtins are read from the builtins
    module itself (what pickle would find there now); anything else - a program's module,
    `__main__`, a library - is looked up by pickle as before."""

    def find_class(self, module: str, name: str):
        if module == "builtins" and "." not in name:
            found = _BUILTINS.get(name, _MISSING)
            if found is not _MISSING:
                return found
        elif module.startswith("swarm."):
            found = _OWN_GLOBALS.get((module, name))
            if found is None:
                found = _OWN_GLOBALS[module, name] = super().find_class(module, name)
            return found
        return super().find_class(module, name)


_BUILTINS = vars(builtins)
_MISSING = object()


class _HashRefUnpickler(_Unpickler):
    def __init__(self, file, sent: dict, keep, resolver) -> None:
        super().__init__(file)
        self.sent, self.keep, self.resolver, self.made = sent, keep, resolver, {}

    def persistent_load(self, h):
        value = self.made.get(h)
        if value is None:
            blob = self.sent.get(h)
            if blob is None and self.keep is not None:
                blob = self.keep.get(h)
            if blob is None:
                if self.resolver is None:
                    raise LookupError(f"a value of the continuation (hash {h.hex()}) is not "
                                      "held here and there is no resolver to ask")
                blob = self.resolver(h)
            value = self.made[h] = pickle.loads(blob)
        return value


def encode(cont: Continuation, parked: list | None = None,
           modules: dict[str, str] | None = None, receiver_has=None,
           keep: dict | None = None) -> bytes:
    """Pickle a continuation. Raises NotMigratable naming what cannot travel. Generators it
    pickled are appended to `parked`: once the bytes are safely elsewhere, pass them to
    generators.abandon(). `modules` is filled with the compiled modules it carries (source
    hash -> name: two programs' `__main__` can travel together, as in console sessions).
    With `receiver_has` (a predicate on content hashes), large module globals and locals
    the receiver holds go by hash, the others are sent along once (contentaddr.py); each
    is put in `keep`."""
    with no_capture():  # the program's __getstate__ may call checkpoint(): no place to move
        return _encode(cont, parked, modules, receiver_has, keep)


def _encode(cont, parked, modules, receiver_has, keep) -> bytes:
    modules = {} if modules is None else modules
    payload = (payload_frames(cont.frames), cont.op, cont.state)
    if receiver_has is not None:
        by_id, sent = _by_hash(cont, receiver_has, keep)
        if by_id:
            try:
                buf = io.BytesIO()
                _HashRefPickler(buf, cont.generators, modules, parked, by_id).dump(payload)
                inner = MAGIC["pickle"] + buf.getvalue()
                return contentaddr.MAGIC + pickle.dumps((sent, inner), protocol=PROTOCOL)
            except Exception:  # anything pickle refuses: the plain way below says what
                if parked is not None:
                    parked.clear()
    engine = "pickle"
    try:
        body = dump(Pickler, payload, cont.generators, modules, parked)
    except Refused as refused:
        raise _explained(cont, refused) from None
    except Exception as first:  # pickle refused something: try dill for it
        if parked is not None:
            parked.clear()
        try:
            body = dump(DillPickler, payload, cont.generators, modules, parked)
            engine = "dill"
        except Refused as refused:
            raise _explained(cont, refused) from None
        except Exception as second:
            raise _explained(cont, second, first) from None
    return MAGIC[engine] + body


def _by_hash(cont: Continuation, receiver_has, keep) -> tuple[dict, dict]:
    """({id(value): hash} of the large values, {hash: bytes} of those the receiver lacks)."""
    by_id: dict[int, bytes] = {}
    sent: dict[bytes, bytes] = {}
    for key, value in contentaddr.candidates(cont.frames).items():
        try:
            blob = dump(_BlobPickler, value, {}, {})
        except Exception:  # refers to the program's code, or does not pickle alone
            continue
        if len(blob) < contentaddr.THRESHOLD:
            continue
        h = contentaddr.digest(blob)
        by_id[key] = h
        if keep is not None:
            keep[h] = blob
        if not receiver_has(h):
            sent[h] = blob
    return by_id, sent


def _explained(cont, error, first=None) -> NotMigratable:
    return explain(cont, error, first)


class _KeepingPickler(Pickler):
    """For rebuilt_here: what must not travel is kept by reference, not refused."""

    def __init__(self, file, generators, kept: list) -> None:
        Pickler.__init__(self, file, generators, {}, None)
        self.kept = kept

    def persistent_id(self, obj):
        t = type(obj)
        kind = KINDS.get(t) or kind_of(t)
        if kind is REFUSE or (kind is LOCK and held(obj)):
            self.kept.append(obj)
            return len(self.kept) - 1
        return None


class _KeptUnpickler(pickle.Unpickler):
    def __init__(self, file, kept: list) -> None:
        super().__init__(file)
        self.kept = kept

    def persistent_load(self, index):
        return self.kept[index]


def rebuilt_here(cont: Continuation) -> Continuation:
    """The continuation made ready to resume in this process when it could not be encoded
    (the fallback): a generator the capture unwound is rebuilt from its records, as decode
    would, while open files, locks and the like stay the very same objects."""
    kept: list = []
    buf = io.BytesIO()
    with no_capture():
        _KeepingPickler(buf, cont.generators, kept).dump(
            (payload_frames(cont.frames), cont.op, cont.state))
        buf.seek(0)
        frames, op, state = _KeptUnpickler(buf, kept).load()
    return Continuation(frames, op, None, state)


def carried_hashes(data: bytes) -> set[bytes]:
    """The hashes of the large values sent along inside encoded `data` (contentaddr.py)."""
    if data[:4] != contentaddr.MAGIC:
        return set()
    sent, _ = pickle.loads(memoryview(data)[4:])
    return set(sent)


def dumps(value, modules: dict[str, str] | None = None, buffer_callback=None,
          live: bool = True) -> bytes:
    """A Ref's value (or a task) to bytes, with the same reductions as continuations (dill
    fallback). `modules` is filled with the compiled modules it carries (hash -> name).
    `buffer_callback`: pickle protocol 5's, for buffers kept out of band
    (swarm/wire/values.py); `loads` then takes them back as `buffers`. `live` (a value,
    not a task's function and arguments): read by a program that runs the module of a
    class in it, the class is the program's own (reductions._Reductions)."""
    modules = {} if modules is None else modules
    try:
        return dump(Pickler, value, {}, modules, live=live, buffer_callback=buffer_callback)
    except Refused as refused:
        raise NotMigratable(f"a {refused} cannot be stored in a Ref") from None
    except Exception:
        return b"D" + dump(DillPickler, value, {}, modules, live=live,
                           buffer_callback=buffer_callback)


def loads(data: bytes, buffers=None):
    """Bytes from `dumps` (read from the node's own store) back to a value."""
    if data[:1] == b"D":
        return dill.loads(memoryview(data)[1:], buffers=buffers)
    return pickle.loads(data, buffers=buffers)


def decode(data: bytes, keep: dict | None = None, resolver=None) -> Continuation:
    """Bytes from `encode` back to a Continuation (the modules' sources must be available).
    Large values sent along by hash are put in `keep`; those not sent are taken from `keep`,
    else asked of `resolver(hash) -> bytes` (contentaddr.py)."""
    with no_capture():  # a __setstate__ that checkpoints is no place to move either
        return _decode(data, keep, resolver)


def _decode(data: bytes, keep, resolver) -> Continuation:
    magic, body = bytes(data[:4]), memoryview(data)[4:]
    if magic == contentaddr.MAGIC:
        sent, inner = pickle.loads(body)
        if keep is not None:
            keep.update(sent)
        unpickler = _HashRefUnpickler(io.BytesIO(memoryview(inner)[4:]), sent, keep, resolver)
        frames, op, state = unpickler.load()
        return Continuation(frames, op, None, state)
    if magic == MAGIC["pickle"]:
        frames, op, state = _Unpickler(io.BytesIO(body)).load()
    elif magic == MAGIC["dill"]:
        frames, op, state = dill.loads(body)
    elif magic[:2] == b"SW" and magic[2:3] in (b"C", b"D", b"H") and magic[3:].isdigit():
        raise ValueError(f"a continuation encoded by another version of swarm (format "
                         f"{magic.decode()}; this one reads {MAGIC['pickle'].decode()}): "
                         "run the same swarm version on every node")
    else:
        raise ValueError("not an encoded continuation")
    return Continuation(frames, op, None, state)


__all__ = ["MAGIC", "carried_hashes", "decode", "dumps", "encode", "loads", "rebuilt_here"]
