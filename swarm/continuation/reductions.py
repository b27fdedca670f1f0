"""Reductions: how the codec pickles what plain pickle would get wrong or refuse.

`Reductions.reducer_override` is shared by the C pickler and the dill fallback. Compiled user
code never travels as bytecode: a module travels as (name, source hash) plus its globals, a
function as (module, code key, closure cells, defaults), a class of the program by value, a
generator as its frame record (generators.py); library objects pickle cannot take go to
library.py. Values known not to migrate - open files (a closed one travels), locks held, sockets - raise `Refused`
(the codec turns it into NotMigratable naming the variable).

What each reduction rebuilds is in rebuilders.py; the pickler classes and `dump` are here,
the byte format and encode/decode in codec.py.
"""

from __future__ import annotations

import _thread
import io
import pickle
import re
import socket
import sys
import threading
import types
from types import FunctionType, GeneratorType, ModuleType

import dill

from swarm.continuation import generators as gens
from swarm.continuation import library
from swarm.continuation import rebuilders as rb
from swarm.continuation.capture import Frame
from swarm.continuation.support import CLASS_MODULES

PROTOCOL = 5

_REFUSED = (io.IOBase, _thread.LockType, _thread.RLock, socket.socket, threading.Condition,
            threading.Semaphore, threading.Event, threading.Thread)
try:
    import zmq
    _REFUSED += (zmq.Socket, zmq.Context)
except ImportError:  # pragma: no cover - pyzmq is a runtime dependency
    pass


class Refused(Exception):
    """A value that must not migrate (an open file, a held lock, a socket) was met while
    pickling; the codec turns it into NotMigratable naming where it was held."""

    def __init__(self, value) -> None:
        super().__init__(f"{type(value).__module__}.{type(value).__qualname__}")
        self.value = value


def compiled_of(module: ModuleType):
    """The CompiledModule of a module the compiler made, else None."""
    return module.__dict__.get("__swarm_compiled__")


class _Reductions:
    """reducer_override shared by the C pickler and the dill fallback. `live`: a value's
    pickle (a Ref's, an answer's), not a continuation's - its classes and modules are the
    reader's own where the reader runs the module they come from (rebuilders.value_class)."""

    live = False

    def _setup(self, generators: dict, modules: dict, parked: list | None = None) -> None:
        self.captured_generators = generators
        self.modules_seen = modules
        self.module_objects: dict = {}  # name -> the compiled modules met so far
        self.parked = parked

    def reducer_override(self, obj):  # noqa: C901 - one dispatch on type, flat
        t = type(obj)
        kind = KINDS.get(t) or kind_of(t)
        if kind is _PLAIN:
            return NotImplemented
        if t is FunctionType:
            if _BY_NAME.get(id(obj)) is obj:
                return NotImplemented
            g = obj.__globals__
            module = g.get("__swarm_module__")
            key = None
            if module is not None and g.get("__swarm_compiled__") is not None:
                key = g["__swarm_compiled__"].code_key(obj.__code__)
            if key is None:
                rv = library.reduce_foreign_function(obj)
                if rv is NotImplemented and module is None:
                    _by_name(obj)
                return rv
            state = (obj.__name__, obj.__qualname__, obj.__defaults__, obj.__kwdefaults__,
                     obj.__dict__ or None, obj.__doc__, obj.__annotations__ or None)
            return (rb.new_function, (module, key, obj.__closure__), state, None, None,
                    rb.fill_function)
        if t is ModuleType:
            compiled = compiled_of(obj)
            if compiled is None or getattr(self, "shallow", False):
                return (rb.import_module, (obj.__name__,))
            self.modules_seen[compiled.source_hash] = obj.__name__
            self.module_objects[obj.__name__] = obj
            state = {k: _globals_marker(v) for k, v in obj.__dict__.items()
                     if k not in MODULE_RUNTIME_KEYS}
            if self.live:  # a value's: the reader's own module, if it has it (rebuilders);
                # else made from its globals - without the top level's evaluation temporaries
                # (a csv reader an earlier comprehension iterated: `cannot pickle`)
                state = {k: v for k, v in state.items()
                         if not _TEMP.match(k) and k != "__swarm_temps__"}
                return (rb.value_module, (obj.__name__, compiled.source_hash), state, None,
                        None, rb.fill_value_module)
            return (rb.new_module, (obj.__name__, compiled.source_hash), state, None, None,
                    rb.fill_module)
        if t is types.CellType:
            try:
                contents = obj.cell_contents
            except ValueError:
                contents = rb.EMPTY_CELL
            return (rb.new_cell, (), contents, None, None, rb.fill_cell)
        if t is GeneratorType:
            rv = gens.reduce_generator(obj, self.captured_generators, self.parked)
            if rv is None:
                raise Refused(obj)
            return rv
        if kind is LOCK:
            if held(obj):
                raise Refused(obj)
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
            if _BY_NAME.get(id(obj)) is obj:
                return NotImplemented
            rv = _reduce_class(obj, self.module_objects, self.live)
            if rv is NotImplemented and CLASS_MODULES.get(obj, 0) is None:
                owner = sys.modules.get(obj.__module__)
                if owner is not None and "__swarm_compiled__" not in owner.__dict__:
                    _by_name(obj)
            return rv
        if kind is _EXCEPTION:
            return _reduce_exception(obj)
        if isinstance(obj, io.IOBase) and obj.closed:  # holds nothing: travels as what it was
            return library.reduce_closed_file(obj)
        raise Refused(obj)


#: id -> a function or class of installed code found to pickle by reference (its module and
#: name), so that the next pickle that meets it returns at once (a hop meets the codec's own
#: rebuilders, `move_to`, the continuation's classes: a dozen lookups a hop). Held here so
#: the id stays theirs; never a compiled module's (a program's code is rebuilt per arrival)
_BY_NAME: dict[int, object] = {}


def _by_name(obj) -> None:
    if len(_BY_NAME) >= 4096:  # (bounded: library code makes functions at run time too)
        _BY_NAME.clear()
    _BY_NAME[id(obj)] = obj


class _GlobalsOf:
    """Stands for a compiled module's globals dict (a variable holding `globals()`) while
    pickling: the dict pickles as a reference to its module, so that after the hop the
    variable is the new module's dict again, and writes through it are not lost."""

    __slots__ = ("module",)

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def __reduce__(self):
        return (rb.module_dict, (self.module,))


def _globals_marker(value):
    """Discussion: the C pickler does not call reducer_override for exact dicts, so a
    module's dict held by a variable is swapped for a marker before pickling (frame locals
    and module globals: where `g = globals()` puts it)."""
    if type(value) is dict:
        module = value.get("__swarm_module__")
        if module is not None and module.__dict__ is value:
            return _GlobalsOf(module)
    return value


def payload_frames(frames: list[Frame]) -> list[Frame]:
    """The frames as they are pickled: a local holding its module's globals dict is swapped
    for a marker (_globals_marker)."""
    out = []
    for fr in frames:
        if fr.locals is not None and any(type(v) is dict and "__swarm_module__" in v
                                         for v in fr.locals.values()):
            fr = fr._replace(locals={k: _globals_marker(v) for k, v in fr.locals.items()})
        out.append(fr)
    return out


# what reducer_override does with instances of a type, decided once per type
_PLAIN, _SPECIAL, _CLASS, _EXCEPTION, REFUSE = "plain", "special", "class", "exception", "refuse"
_NDARRAY, _ENUM_MEMBER, _TYPEVAR, _WRAPPER = "ndarray", "enum member", "typevar", "wrapper"
LOCK, _LOGGER, _STRUCT = "lock", "logger", "struct"


def held(lock) -> bool:
    """Is the lock held (by anyone)? An RLock is asked without blocking."""
    if isinstance(lock, _thread.LockType):
        return lock.locked()
    if lock.acquire(blocking=False):
        lock.release()
        return lock._is_owned()  # ours now means ours before too (reentrant)
    return True


#: type -> its kind (below), decided once per type
KINDS: dict[type, str] = {}


def kind_of(t: type) -> str:
    """What reducer_override does with instances of `t` (cached in KINDS)."""
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
        kind = LOCK  # (dill would fake a held one: refused while held)
    elif issubclass(t, _REFUSED) and not issubclass(t, (io.StringIO, io.BytesIO)):
        kind = REFUSE  # (in-memory files are values: they pickle with their position)
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
    if len(KINDS) > 10_000:  # user classes are rebuilt on every arrival: stay bounded
        KINDS.clear()
    KINDS[t] = kind
    return kind


_TEMP = re.compile(r"_sw_[tf]\d+$")  # the compiler's temporaries (anf.py)
#: a compiled module's globals that do not travel with it: the runtime's (made again where
#: it arrives) and `__swarm_resumers__`, the resumers made so far (resume.resumer_for makes
#: the one it needs on arrival: cheaper than pickling and rebuilding every one made, four
#: functions a hop in a ping-pong)
MODULE_RUNTIME_KEYS = frozenset({"__swarm_compiled__", "__swarm_module__", "__swarm_support__",
                                  "__builtins__", "__loader__", "__spec__", "__cached__",
                                  "__swarm_resumers__"})


def _user_module_of_class(cls, known: dict | None = None):
    """The compiled module a class was defined in (None: a class of installed code, which
    pickles by reference). Cached per class: it walks the class's namespace."""
    try:
        return CLASS_MODULES[cls]
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
        CLASS_MODULES[cls] = module
    except TypeError:
        pass
    return module


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
        return (rb.new_exception, (type(exc), exc.args), (exc.__dict__ or None, chain), None,
                None, rb.fill_exception)
    func, args, *rest = exc.__reduce_ex__(PROTOCOL)
    state = rest[0] if rest else None
    return (func, args, (state, chain), None, None, rb.fill_exception)


def _reduce_class(cls, known: dict | None = None, live: bool = False):
    module = _user_module_of_class(cls, known)
    if module is None:
        return NotImplemented
    namespace = {k: v for k, v in cls.__dict__.items() if k not in _CLASS_SKIP}
    slots = namespace.get("__slots__")
    if slots is not None:
        for name in [slots] if isinstance(slots, str) else slots:
            namespace.pop(name, None)
    return (rb.value_class if live else rb.new_class,
            (type(cls), cls.__name__, cls.__bases__, cls.__qualname__, module,
             "__slots__" in namespace and namespace["__slots__"]),
            namespace, None, None, rb.fill_value_class if live else rb.fill_class)


class Pickler(_Reductions, pickle.Pickler):
    """The C pickler with the codec's reductions: tried first."""

    def __init__(self, file, generators, modules, parked=None, buffer_callback=None) -> None:
        pickle.Pickler.__init__(self, file, protocol=PROTOCOL, buffer_callback=buffer_callback)
        self._setup(generators, modules, parked)


class DillPickler(_Reductions, dill.Pickler):
    """dill with the codec's reductions: for what the C pickler refuses."""

    def __init__(self, file, generators, modules, parked=None, buffer_callback=None) -> None:
        dill.Pickler.__init__(self, file, protocol=PROTOCOL, recurse=True,
                              buffer_callback=buffer_callback)
        self._setup(generators, modules, parked)


class ShallowPickler(Pickler):
    """Pickles compiled modules by name (explain.py tries one value at a time with it)."""

    shallow = True


def dump(pickler_cls, payload, generators: dict, modules: dict,
         parked: list | None = None, live: bool = False, **buffers) -> bytes:
    """`payload` pickled by `pickler_cls`: generators captured mid-call are in `generators`,
    the compiled modules met are added to `modules` (source hash -> name), generators
    reduced from live ones to `parked`. `live`: see _Reductions. `buffer_callback=`: pickle
    protocol 5's."""
    buf = io.BytesIO()
    pickler = pickler_cls(buf, generators, modules, parked, **buffers)
    pickler.live = live
    pickler.dump(payload)
    return buf.getvalue()
