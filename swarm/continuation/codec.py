"""The codec: a Continuation to bytes and back.

C `pickle` first; `dill` only for the objects pickle refuses (functions and classes of
non-compiled code defined in odd places, and the like). Compiled user code never travels as
bytecode: a module travels as (name, source hash) plus its globals, a function as (module, code
key, closure cells, defaults), a class by value, a generator as its frame record.

Values known not to migrate - open files, locks, sockets - are refused with NotMigratable
naming the variable, function, file and line, even where dill could pickle them: a
continuation must never resume with a silently different object.

Byte layout of an encoded continuation:

    | 4 bytes  | magic: b"SWC3" (C pickle) or b"SWD3" (dill)   |
    | rest     | the pickle of (frames, op, process state)     |

(or b"SWH3" when large values go by their content hash: contentaddr.py)

The compiled modules it carries are named inside the pickle (name, source hash); `encode`
also returns them, for the hop's metadata, so a receiver can fetch missing sources first.

Only `swarm.wire` will unpickle bytes from the network, after checking their signature; this
module is where that unpickling is implemented.
"""

from __future__ import annotations

import _thread
import io
import pickle
import socket
import sys
import threading
import types
from types import FunctionType, GeneratorType, ModuleType

import dill

from swarm.continuation import contentaddr, library, loader
from swarm.continuation import generators as gens
from swarm.continuation.capture import Continuation, Frame
from swarm.continuation.errors import NotMigratable
from swarm.continuation.primitives import no_capture
from swarm.continuation.rt import CLASS_MODULES

MAGIC = {"pickle": b"SWC3", "dill": b"SWD3"}
PROTOCOL = 5

_REFUSED = (io.IOBase, _thread.LockType, _thread.RLock, socket.socket, threading.Condition,
            threading.Semaphore, threading.Event, threading.Thread)
try:
    import zmq
    _REFUSED += (zmq.Socket, zmq.Context)
except ImportError:  # pragma: no cover - pyzmq is a runtime dependency
    pass


class _Refused(Exception):
    """Internal: a value that must not migrate was met while pickling."""

    def __init__(self, value) -> None:
        super().__init__(f"{type(value).__module__}.{type(value).__qualname__}")
        self.value = value


_EMPTY = object()


def _compiled_of(module: ModuleType):
    return module.__dict__.get("__swarm_compiled__")


class _Reductions:
    """reducer_override shared by the C pickler and the dill fallback."""

    def _setup(self, generators: dict, modules: dict, parked: list | None = None) -> None:
        self.captured_generators = generators
        self.modules_seen = modules
        self.module_objects: dict = {}  # name -> the compiled modules met so far
        self.parked = parked

    def reducer_override(self, obj):  # noqa: C901 - one dispatch on type, flat
        t = type(obj)
        kind = _KINDS.get(t) or _kind_of(t)
        if kind is _PLAIN:
            return NotImplemented
        if t is FunctionType:
            g = obj.__globals__
            module = g.get("__swarm_module__")
            key = None
            if module is not None and g.get("__swarm_compiled__") is not None:
                key = g["__swarm_compiled__"].code_key(obj.__code__)
            if key is None:
                return library.reduce_foreign_function(obj)
            state = (obj.__name__, obj.__qualname__, obj.__defaults__, obj.__kwdefaults__,
                     obj.__dict__ or None, obj.__doc__)
            return (_new_function, (module, key, obj.__closure__), state, None, None,
                    _fill_function)
        if t is ModuleType:
            compiled = _compiled_of(obj)
            if compiled is None or getattr(self, "shallow", False):
                return (_import_module, (obj.__name__,))
            self.modules_seen[compiled.source_hash] = obj.__name__
            self.module_objects[obj.__name__] = obj
            state = {k: _globals_marker(v) for k, v in obj.__dict__.items()
                     if k not in _MODULE_RUNTIME_KEYS}
            return (_new_module, (obj.__name__, compiled.source_hash), state, None, None,
                    _fill_module)
        if t is types.CellType:
            try:
                contents = obj.cell_contents
            except ValueError:
                contents = _EMPTY
            return (_new_cell, (), contents, None, None, _fill_cell)
        if t is GeneratorType:
            rv = gens.reduce_generator(obj, self.captured_generators, self.parked)
            if rv is None:
                raise _Refused(obj)
            return rv
        if kind is _LOCK:
            if _held(obj):
                raise _Refused(obj)
            # a lock nobody holds: a new one, unlocked, is the same
            return (threading.Lock if t is _thread.LockType else threading.RLock, ())
        if kind is _NDARRAY:
            return library.reduce_ndarray(obj)
        if kind is _LOGGER:
            return library.reduce_logger(obj)
        if kind is _STRUCT:
            return (type(obj), (obj.format,))
        if kind is _WRAPPER:
            return library.reduce_wrapper(obj)
        if kind is _TYPEVAR:
            return (library.new_typevar, (t, obj.__name__, obj.__constraints__, obj.__bound__,
                                   obj.__covariant__, obj.__contravariant__))
        if kind is _ENUM_MEMBER:
            return (library.new_enum_member, (t, t._member_type_, obj._value_), obj.__dict__)
        if kind is _CLASS:
            return _reduce_class(obj, self.module_objects)
        if kind is _EXCEPTION:
            return _reduce_exception(obj)
        raise _Refused(obj)


class _GlobalsOf:
    """Stands for a compiled module's globals dict (a variable holding `globals()`) while
    pickling: the dict pickles as a reference to its module, so that after the hop the
    variable is the new module's dict again, and writes through it are not lost."""

    __slots__ = ("module",)

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def __reduce__(self):
        return (_module_dict, (self.module,))


def _module_dict(module: ModuleType) -> dict:
    return module.__dict__


def _globals_marker(value):
    """Discussion: the C pickler does not call reducer_override for exact dicts, so a
    module's dict held by a variable is swapped for a marker before pickling (frame locals
    and module globals: where `g = globals()` puts it)."""
    if type(value) is dict:
        module = value.get("__swarm_module__")
        if module is not None and module.__dict__ is value:
            return _GlobalsOf(module)
    return value


def _payload_frames(frames: list[Frame]) -> list[Frame]:
    out = []
    for fr in frames:
        if fr.locals is not None and any(type(v) is dict and "__swarm_module__" in v
                                         for v in fr.locals.values()):
            fr = fr._replace(locals={k: _globals_marker(v) for k, v in fr.locals.items()})
        out.append(fr)
    return out


# what reducer_override does with instances of a type, decided once per type
_PLAIN, _SPECIAL, _CLASS, _EXCEPTION, _REFUSE = "plain", "special", "class", "exception", "refuse"
_NDARRAY, _ENUM_MEMBER, _TYPEVAR, _WRAPPER = "ndarray", "enum member", "typevar", "wrapper"
_LOCK, _LOGGER, _STRUCT = "lock", "logger", "struct"


def _held(lock) -> bool:
    """Is the lock held (by anyone)? An RLock is asked without blocking."""
    if isinstance(lock, _thread.LockType):
        return lock.locked()
    if lock.acquire(blocking=False):
        lock.release()
        return lock._is_owned()  # ours now means ours before too (reentrant)
    return True
_KINDS: dict[type, str] = {}


def _kind_of(t: type) -> str:
    if t in (FunctionType, ModuleType, types.CellType, GeneratorType):
        kind = _SPECIAL
    elif issubclass(t, type):
        kind = _CLASS
    elif issubclass(t, BaseException):
        kind = _EXCEPTION
    elif t.__name__ == "Struct" and t.__module__ in ("_struct", "struct"):
        kind = _STRUCT  # (a struct.Struct does not pickle; its format is all it is)
    elif t.__module__ == "logging" and t.__name__ in ("Logger", "RootLogger"):
        kind = _LOGGER
    elif t in (_thread.LockType, _thread.RLock):
        kind = _LOCK  # (dill would fake a held one: refused while held)
    elif issubclass(t, _REFUSED) and not issubclass(t, (io.StringIO, io.BytesIO)):
        kind = _REFUSE  # (in-memory files are values: they pickle with their position)
    elif t.__name__ == "ndarray" and t.__module__ == "numpy":
        kind = _NDARRAY
    elif t.__name__ == "TypeVar" and t.__module__ == "typing":
        kind = _TYPEVAR  # pickled by name by typing: the program's module is not importable
    elif t in (classmethod, staticmethod, property, types.MappingProxyType):
        kind = _WRAPPER
    elif library.is_enum(t) and _user_module_of_class(t) is not None:
        kind = _ENUM_MEMBER
    else:
        kind = _PLAIN
    if len(_KINDS) > 10_000:  # user classes are rebuilt on every arrival: stay bounded
        _KINDS.clear()
    _KINDS[t] = kind
    return kind


_MODULE_RUNTIME_KEYS = frozenset({"__swarm_compiled__", "__swarm_module__", "__swarm_rt__",
                                  "__builtins__", "__loader__", "__spec__", "__cached__"})


def _user_module_of_class(cls, known: dict | None = None):
    """The compiled module a class was defined in (None: a class of installed code, which
    pickles by reference). Cached per class: it walks the class's namespace."""
    try:
        return _CLASS_MODULES[cls]
    except (KeyError, TypeError):
        pass
    module = _find_user_module(cls)
    if module is None:
        # made by library code in the program's namespace (collections.namedtuple, Enum's
        # functional API): its module is the program's - among the modules this pickle met
        # already (the frames' modules come first), or __main__ while the program runs
        owner = (known or {}).get(cls.__module__) or sys.modules.get(cls.__module__)
        if owner is not None and "__swarm_compiled__" in owner.__dict__ and \
                owner.__dict__.get(cls.__qualname__) is cls:
            module = owner.__dict__["__swarm_module__"]
        elif owner is None or "__swarm_compiled__" in owner.__dict__:
            return None  # not known yet (another pickle may meet its module): not cached
    try:
        _CLASS_MODULES[cls] = module
    except TypeError:
        pass
    return module


_CLASS_MODULES = CLASS_MODULES  # filled by own_class after each compiled `class` statement


def _find_user_module(cls):
    for value in cls.__dict__.values():
        fn = value
        if isinstance(value, (staticmethod, classmethod)):
            fn = value.__func__
        elif isinstance(value, property):
            fn = value.fget
        if isinstance(fn, FunctionType) and "__swarm_compiled__" in fn.__globals__:
            if fn.__globals__.get("__name__") == cls.__module__:
                return fn.__globals__["__swarm_module__"]
    return None


_CLASS_SKIP = frozenset({"__dict__", "__weakref__", "_abc_impl"})


def _reduce_exception(exc: BaseException):
    """Exceptions keep their chain (__cause__, __context__, __suppress_context__); user
    exceptions are rebuilt without calling __init__ (it often takes other arguments than
    the .args it passes up)."""
    chain = (exc.__cause__, exc.__context__, exc.__suppress_context__)
    if _user_module_of_class(type(exc)) is not None:
        return (_new_exception, (type(exc), exc.args), (exc.__dict__ or None, chain), None,
                None, _fill_exception)
    func, args, *rest = exc.__reduce_ex__(PROTOCOL)
    state = rest[0] if rest else None
    return (func, args, (state, chain), None, None, _fill_exception)


def _reduce_class(cls, known: dict | None = None):
    module = _user_module_of_class(cls, known)
    if module is None:
        return NotImplemented
    namespace = {k: v for k, v in cls.__dict__.items() if k not in _CLASS_SKIP}
    slots = namespace.get("__slots__")
    if slots is not None:
        for name in [slots] if isinstance(slots, str) else slots:
            namespace.pop(name, None)
    return (_new_class, (type(cls), cls.__name__, cls.__bases__, cls.__qualname__, module,
                         "__slots__" in namespace and namespace["__slots__"]),
            namespace, None, None, _fill_class)


# --- rebuilders (run while unpickling) -------------------------------------------------------

def _import_module(name: str) -> ModuleType:
    module = sys.modules.get(name)
    if module is not None:
        return module
    import importlib

    return importlib.import_module(name)


def _new_module(name: str, source_hash: str) -> ModuleType:
    return loader.new_module_instance(name, source_hash)


def _fill_module(module: ModuleType, state: dict) -> None:
    module.__dict__.update(state)
    if module.__name__ != "__main__":
        # the program's own copy is the one its later `import` statements must find
        sys.modules[module.__name__] = module


def _new_exception(cls, args):
    exc = cls.__new__(cls, *args)
    exc.args = args
    return exc


def _fill_exception(exc, state) -> None:
    own, (cause, context, suppress) = state
    if own:
        if hasattr(exc, "__setstate__"):
            exc.__setstate__(own)
        else:
            exc.__dict__.update(own)
    exc.__cause__, exc.__context__ = cause, context
    exc.__suppress_context__ = suppress


def _new_function(module: ModuleType, key: str, closure):
    code = module.__dict__["__swarm_compiled__"].code_by_key(key)
    return FunctionType(code, module.__dict__, code.co_name, None, closure)


def _fill_function(fn, state) -> None:
    name, qualname, defaults, kwdefaults, fdict, doc = state
    fn.__name__ = name
    fn.__qualname__ = qualname
    fn.__defaults__ = defaults
    fn.__kwdefaults__ = kwdefaults
    fn.__doc__ = doc
    if fdict:
        fn.__dict__.update(fdict)


def _new_cell():
    return types.CellType()  # (pickle cannot name types.CellType itself: builtins.cell)


def _fill_cell(cell, contents) -> None:
    if contents is not _EMPTY:
        cell.cell_contents = contents


class _Plain:
    """The stand-in base a class is made with before it gets its own (_new_class)."""


def _new_class(meta, name, bases, qualname, module, slots):
    """Rebuild a class of the program without creating it again: no metaclass __new__ or
    __init__, no __init_subclass__ of its bases, no __set_name__ of its attributes.

    Discussion: those hooks ran when the program created the class, and what they made is in
    the class's namespace, which travels with it. Running them again on every hop - on a
    class whose namespace is not filled yet - crashed (a hook reading an attribute, a
    zero-argument super() whose __class__ cell is still empty) or repeated side effects (a
    subclass registry growing). So the class is made by type.__new__ with a plain base and
    given its real bases after; where the layout forbids that (__slots__, builtin bases)
    type.__new__ makes it with its bases, which runs __init_subclass__ alone."""
    ns = {"__module__": module.__name__, "__qualname__": qualname}
    if slots:
        ns["__slots__"] = slots
    cls = None
    if bases != (object,) and not slots:
        try:
            cls = type.__new__(meta, name, (_Plain,), dict(ns))
            cls.__bases__ = bases
        except TypeError:
            cls = None
    if cls is None:
        cls = type.__new__(meta, name, bases, ns)
    CLASS_MODULES[cls] = module
    return cls


def _fill_class(cls, namespace: dict) -> None:
    for key, value in namespace.items():
        if key in ("__module__", "__qualname__", "__slots__", "__doc__"):
            continue
        type.__setattr__(cls, key, value)  # not a metaclass's __setattr__ (Enum refuses)
    abc = sys.modules.get("abc")
    if abc is not None and isinstance(cls, abc.ABCMeta):
        abc._abc_init(cls)  # its registry does not travel: made again from the namespace
    if namespace.get("__doc__") is not None:
        try:
            cls.__doc__ = namespace["__doc__"]
        except (AttributeError, TypeError):
            pass


# --- picklers --------------------------------------------------------------------------------

class _Pickler(_Reductions, pickle.Pickler):
    def __init__(self, file, generators, modules, parked=None, buffer_callback=None) -> None:
        pickle.Pickler.__init__(self, file, protocol=PROTOCOL, buffer_callback=buffer_callback)
        self._setup(generators, modules, parked)


class _DillPickler(_Reductions, dill.Pickler):
    def __init__(self, file, generators, modules, parked=None, buffer_callback=None) -> None:
        dill.Pickler.__init__(self, file, protocol=PROTOCOL, recurse=True,
                              buffer_callback=buffer_callback)
        self._setup(generators, modules, parked)


class _ShallowPickler(_Pickler):
    shallow = True


class _TouchedProgram(Exception):
    """Internal: a large value refers to the program's own code (it cannot go by hash)."""


class _BlobPickler(_Pickler):
    """Pickles one large value alone (contentaddr.py); refuses values that refer to a
    compiled module (they travel with the continuation)."""

    def reducer_override(self, obj):
        if type(obj) is ModuleType and _compiled_of(obj) is not None:
            raise _TouchedProgram()
        return _Pickler.reducer_override(self, obj)


class _HashRefPickler(_Pickler):
    """The continuation's pickler when large values go by hash: they become persistent ids."""

    def __init__(self, file, generators, modules, parked, by_id: dict) -> None:
        _Pickler.__init__(self, file, generators, modules, parked)
        self.by_id = by_id

    def persistent_id(self, obj):
        return self.by_id.get(id(obj))


class _HashRefUnpickler(pickle.Unpickler):
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


def _dump(pickler_cls, payload, generators, modules, parked=None, **buffers) -> bytes:
    buf = io.BytesIO()
    pickler_cls(buf, generators, modules, parked, **buffers).dump(payload)
    return buf.getvalue()


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
    payload = (_payload_frames(cont.frames), cont.op, cont.state)
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
        body = _dump(_Pickler, payload, cont.generators, modules, parked)
    except _Refused as refused:
        raise _explained(cont, refused) from None
    except Exception as first:  # pickle refused something: try dill for it
        if parked is not None:
            parked.clear()
        try:
            body = _dump(_DillPickler, payload, cont.generators, modules, parked)
            engine = "dill"
        except _Refused as refused:
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
            blob = _dump(_BlobPickler, value, {}, {})
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
    from swarm.continuation.explain import explain  # (it pickles with this module's picklers)

    return explain(cont, error, first)


class _KeepingPickler(_Pickler):
    """For rebuilt_here: what must not travel is kept by reference, not refused."""

    def __init__(self, file, generators, kept: list) -> None:
        _Pickler.__init__(self, file, generators, {}, None)
        self.kept = kept

    def persistent_id(self, obj):
        t = type(obj)
        kind = _KINDS.get(t) or _kind_of(t)
        if kind is _REFUSE or (kind is _LOCK and _held(obj)):
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
            (_payload_frames(cont.frames), cont.op, cont.state))
        buf.seek(0)
        frames, op, state = _KeptUnpickler(buf, kept).load()
    return Continuation(frames, op, None, state)


def carried_hashes(data: bytes) -> set[bytes]:
    """The hashes of the large values sent along inside encoded `data` (contentaddr.py)."""
    if data[:4] != contentaddr.MAGIC:
        return set()
    sent, _ = pickle.loads(memoryview(data)[4:])
    return set(sent)


def dumps(value, modules: dict[str, str] | None = None, buffer_callback=None) -> bytes:
    """A Ref's value (or a task) to bytes, with the same reductions as continuations (dill
    fallback). `modules` is filled with the compiled modules it carries (hash -> name).
    `buffer_callback`: pickle protocol 5's, for buffers kept out of band (the node's
    swarm/node/values.py); `loads` then takes them back as `buffers`."""
    modules = {} if modules is None else modules
    try:
        return _dump(_Pickler, value, {}, modules, buffer_callback=buffer_callback)
    except _Refused as refused:
        raise NotMigratable(f"a {refused} cannot be stored in a Ref") from None
    except Exception:
        return b"D" + _dump(_DillPickler, value, {}, modules, buffer_callback=buffer_callback)


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
    magic, body = data[:4], memoryview(data)[4:]
    if magic == contentaddr.MAGIC:
        sent, inner = pickle.loads(body)
        if keep is not None:
            keep.update(sent)
        unpickler = _HashRefUnpickler(io.BytesIO(memoryview(inner)[4:]), sent, keep, resolver)
        frames, op, state = unpickler.load()
        return Continuation(frames, op, None, state)
    if magic == MAGIC["pickle"]:
        frames, op, state = pickle.loads(body)
    elif magic == MAGIC["dill"]:
        frames, op, state = dill.loads(body)
    else:
        raise ValueError("not an encoded continuation")
    return Continuation(frames, op, None, state)


__all__ = ["encode", "decode", "Frame"]
