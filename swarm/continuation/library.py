"""Reductions for objects of library code that pickle cannot take as they are.

The codec's reducer_override (codec.py) sends these here, so that the C pickler - not dill -
handles what programs commonly hold:
- numpy views: (base array, offset, shape, strides), so they share memory with their base
  after the hop as before (numpy's own pickling copies a view);
- typing.TypeVar: by value (typing pickles it by name, and the program's `__main__` is not
  the importable one);
- members of the program's Enum classes: made without calling the class (its namespace is
  not filled yet when they are unpickled);
- the iterator of an Enum class (a generator of enum.py): the rest of its member names;
- loggers: with the handlers, level and filters the program gave them;
- closed files (what `with open(...) as f` leaves in `f`): a closed file of the same class,
  name and mode, which raises as the original would if used;
- classmethod, staticmethod, property and mappingproxy objects (the C pickler refuses
  them);
- functions of library code that are not importable by name (a local function of
  argparse, a method dataclasses generated): their code by `marshal`, their module by name.
  Discussion: marshal's format is the interpreter's own, so the receiving process must run
  the same Python version (checked: a clear error otherwise); the program's own compiled
  code never travels this way.
"""

from __future__ import annotations

import io
import marshal
import os
import sys
import types
import weakref
from types import FunctionType


def is_enum(t: type) -> bool:
    """Is `t` an Enum class (without importing enum)?"""
    enum = sys.modules.get("enum")
    return enum is not None and issubclass(t, enum.Enum)


def new_typevar(cls, name, constraints, bound, covariant, contravariant):
    """A TypeVar made again by value."""
    return cls(name, *constraints, bound=bound, covariant=covariant,
               contravariant=contravariant)


def new_enum_member(cls, member_type, value):
    """An Enum member of a class rebuilt here (Enum's own reduction would call cls(value)
    before the class is filled); of a class already made (the reader's own: a value read
    from a Ref), that class's member itself - `is Color.BLUE` holds."""
    members = cls.__dict__.get("_member_map_")
    if members:
        for member in members.values():
            if member._value_ == value:
                return member
    if member_type is object:
        return object.__new__(cls)
    return member_type.__new__(cls, value)


def reduce_ndarray(array):
    """A numpy view pickles as (its base array, offset, shape, strides, dtype): after the hop
    it shares memory with its base as before (numpy alone would copy it). The base array
    (the first that is no view of another array) pickles as numpy does."""
    ndarray = type(array)
    root = _array_base(array, ndarray)
    if root is None:
        return NotImplemented
    while True:
        up = _array_base(root, ndarray)
        if up is None:
            break
        root = up
    if not isinstance(root, ndarray) or not (root.flags.c_contiguous
                                             or root.flags.f_contiguous):
        return NotImplemented  # numpy copies it
    # (root may itself sit on a buffer - bytes, as numpy unpickles it: it pickles whole)
    offset = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return (_ndarray_view, (root, offset, array.shape, array.strides, array.dtype,
                            bool(array.flags.writeable)))


def _array_base(array, ndarray):
    """The array `array` is a view of (through a memoryview, as views rebuilt here are)."""
    base = array.base
    if isinstance(base, memoryview):
        base = base.obj
    return base if isinstance(base, ndarray) else None


def _ndarray_view(root, offset, shape, strides, dtype, writeable):
    view = type(root)(shape, dtype=dtype, buffer=root, offset=offset, strides=strides)
    view.flags.writeable = writeable and bool(root.flags.writeable)
    return view


def reduce_library_generator(gen):
    """A generator of library code that can be rebuilt: the iterator of an Enum class
    (`for kind in Color:`), a generator of enum.py over its member names. None otherwise."""
    enum = sys.modules.get("enum")
    code = gen.gi_code
    if enum is None or code not in _enum_iter_codes(enum):
        return None
    frame = gen.gi_frame
    if frame is None:  # exhausted
        return (iter, ((),))
    f_locals = frame.f_locals
    return (_enum_members, (f_locals["cls"], f_locals[".0"]))


def _enum_iter_codes(enum) -> tuple:
    return tuple(c for c in enum.EnumType.__iter__.__code__.co_consts
                 if isinstance(c, types.CodeType)) + (_enum_members_code,)


def _enum_members(cls, names):
    """The rest of an Enum class's iteration (its remaining member names' iterator)."""
    return (cls._member_map_[name] for name in names)


_enum_members_code = next(c for c in _enum_members.__code__.co_consts
                          if isinstance(c, types.CodeType))


def reduce_closed_file(f):
    """A closed file holds no resource: it travels as its class, name and mode."""
    return (closed_file, (type(f).__name__, getattr(f, "name", None), getattr(f, "mode", None)))


def closed_file(kind: str, file_name, mode):
    """A closed file of class `kind` (one of io's) named `file_name`.

    Discussion: it is made on a descriptor of os.devnull kept open for all of them
    (closefd=False: closing it leaves the descriptor), not one opened and closed per file -
    a script's `with open(...) as f:` at its top level leaves such a file in its globals,
    made again at every hop: open, fstat, ioctl, lseek and close a hop were 40-80 us of a
    node's CPU in the hop benchmark (bench/hops.py's program has one)."""
    raw = _null_raw()  # any buffer may wrap it (a writer flushes on close)
    if file_name is not None:
        raw.name = file_name
    if kind in ("BufferedReader", "BufferedWriter", "BufferedRandom"):
        f = getattr(io, kind)(raw)
    elif kind == "TextIOWrapper":
        f = io.TextIOWrapper(io.BufferedReader(raw))
        if mode is not None:
            f.mode = mode
    else:
        f = raw
    f.close()
    return f


_NULL_FD: list = []  # [a descriptor of os.devnull], opened at the first closed_file


def _null_raw() -> io.FileIO:
    """A FileIO on the kept descriptor of os.devnull (opened again if something closed it)."""
    if _NULL_FD:
        try:
            return io.FileIO(_NULL_FD[0], "r+", closefd=False)
        except OSError:  # (a program closed it: fstat said so)
            _NULL_FD.clear()
    _NULL_FD.append(os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC))
    return io.FileIO(_NULL_FD[0], "r+", closefd=False)


def reduce_logger(logger):
    """A logging.Logger: the process it arrives in has a logger of that name, but not the
    handlers, level and filters the program gave it - they travel with it."""
    name = None if logger is logger.root else logger.name
    return (_restore_logger, (name, logger.level, logger.propagate, logger.disabled,
                              list(logger.handlers), list(logger.filters)))


def _restore_logger(name, level, propagate, disabled, handlers, filters):
    import logging

    logger = logging.getLogger(name)
    logger.setLevel(level)
    logger.propagate, logger.disabled = propagate, disabled
    logger.handlers[:] = handlers
    logger.filters[:] = filters
    return logger


def reduce_wrapper(obj):
    """classmethod / staticmethod / property / mappingproxy (a dataclass field's metadata)."""
    if type(obj) is types.MappingProxyType:
        return (_new_mappingproxy, (dict(obj),))
    if isinstance(obj, property):
        return (type(obj), (obj.fget, obj.fset, obj.fdel, obj.__doc__))
    return (type(obj), (obj.__func__,), obj.__dict__ or None)


def _new_mappingproxy(d: dict):
    return types.MappingProxyType(d)


_IMPORTABLE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _importable(fn: FunctionType) -> bool:
    """Would pickle find `fn` again by its module and qualname?"""
    try:
        return _IMPORTABLE[fn]
    except KeyError:
        pass
    found = sys.modules.get(fn.__module__ or "")
    if "__swarm_compiled__" in getattr(found, "__dict__", {}):
        _IMPORTABLE[fn] = False  # the program's module (its __main__): not importable there
        return False
    for part in fn.__qualname__.split("."):
        found = getattr(found, part, None)
    ok = found is fn
    _IMPORTABLE[fn] = ok
    return ok


def reduce_foreign_function(fn: FunctionType):
    """A function of library code pickle cannot find by name: by value (code by marshal)."""
    g = fn.__globals__
    program = g.get("__swarm_module__")
    if program is not None and program.__dict__ is g:
        where = program  # made by library code in the program's globals (dataclasses)
    elif _importable(fn):
        return NotImplemented
    else:
        module = sys.modules.get(g.get("__name__") or "")  # (functools.wraps changes
        where = module.__name__ if module is not None and module.__dict__ is g \
            else dict(g)  # __module__, not __globals__)
    if isinstance(where, dict):
        where.pop("__builtins__", None)
    return (_new_foreign_function, (sys.version_info[:2], marshal.dumps(fn.__code__), where,
                                    fn.__name__, fn.__closure__),
            (fn.__qualname__, fn.__defaults__, fn.__kwdefaults__, fn.__dict__ or None,
             fn.__doc__, fn.__module__, fn.__annotations__ or None), None, None,
            _fill_foreign_function)


def _new_foreign_function(version, code_bytes, where, name, closure):
    if tuple(version) != sys.version_info[:2]:
        raise RuntimeError(f"a function of library code travelled from Python "
                           f"{version[0]}.{version[1]} to {sys.version_info[0]}."
                           f"{sys.version_info[1]}: every process of a cluster must run one "
                           "Python version")
    code = marshal.loads(code_bytes)
    if isinstance(where, types.ModuleType):
        g = where.__dict__
    elif isinstance(where, str):
        import importlib

        g = importlib.import_module(where).__dict__
    else:
        g = dict(where)
        g.setdefault("__builtins__", __builtins__)
    return types.FunctionType(code, g, name, None, closure)


def _fill_foreign_function(fn, state) -> None:
    qualname, defaults, kwdefaults, fdict, doc, module, *annotations = state
    if annotations and annotations[0]:
        fn.__annotations__ = annotations[0]
    fn.__qualname__, fn.__defaults__, fn.__kwdefaults__ = qualname, defaults, kwdefaults
    fn.__doc__, fn.__module__ = doc, module
    if fdict:
        fn.__dict__.update(fdict)
