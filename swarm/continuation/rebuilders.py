"""Rebuilders: the functions an encoded continuation or value calls while it is unpickled.

The reductions (reductions.py) name these in the pickle, by this module's path: a compiled
module is made again from its name and source hash (the compiler's loader), a function from its
module and code key, a class from its namespace without running its creation hooks again, an
exception with its chain. Moving or renaming one changes the encoding: the codec's magic
changes with it (codec.py).
"""

from __future__ import annotations

import importlib
import sys
import types
import weakref
from types import FunctionType, ModuleType

from swarm.continuation import loader, process_state
from swarm.continuation.support import CLASS_MODULES

#: the contents of a cell that was empty when it was pickled
EMPTY_CELL = object()


def module_dict(module: ModuleType) -> dict:
    """A variable that held a compiled module's globals dict holds the new module's."""
    return module.__dict__


def import_module(name: str) -> ModuleType:
    """A module of installed code, by name."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    return importlib.import_module(name)


def new_module(name: str, source_hash: str) -> ModuleType:
    """A fresh instance of a compiled module (the compiler's loader: loader.py)."""
    return loader.new_module_instance(name, source_hash)


def fill_module(module: ModuleType, state: dict) -> None:
    """Its globals; it becomes the module later `import` statements find."""
    module.__dict__.update(state)
    if module.__name__ != "__main__":
        # the program's own copy is the one its later `import` statements must find
        sys.modules[module.__name__] = module
        process_state.brought.add(module.__name__)


def value_module(name: str, source_hash: str) -> ModuleType:
    """A compiled module a value names (its classes', its functions'): the reader's own,
    when the program reading it runs that module (the same name and text: sys.modules is
    the running program's), else a fresh instance filled from the value.

    Discussion: a value read from a Ref is the program's data, not a copy of its code. Made
    of fresh classes, `isinstance(r.get(), Box)` was False and `r.get() is Color.BLUE` never
    true, for a Ref written and read by the same program on the same node - silently (a
    dataclass's __eq__ compares classes: equal values compared unequal). A continuation is
    different: its modules are the program's, and travel with it (new_module)."""
    live = sys.modules.get(name)
    if live is not None and getattr(live.__dict__.get("__swarm_compiled__"), "source_hash",
                                    None) == source_hash:
        return live
    return new_module(name, source_hash)


def fill_value_module(module: ModuleType, state: dict) -> None:
    """A fresh module's globals from the value; the reader's own module is left as it is."""
    if sys.modules.get(module.__name__) is not module:
        fill_module(module, state)


_found: weakref.WeakSet = weakref.WeakSet()  # classes value_class found in a live module


def value_class(meta, name, bases, qualname, module, slots):
    """A class a value names: the one of that name in the reader's own module (value_module),
    else rebuilt (new_class)."""
    if sys.modules.get(module.__name__) is module and "<" not in qualname:
        found = module
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if isinstance(found, type) and found.__name__ == name:
            _found.add(found)
            return found
    return new_class(meta, name, bases, qualname, module, slots)


def fill_value_class(cls, namespace: dict) -> None:
    """A rebuilt class's namespace; the reader's own class is left as it is."""
    if cls not in _found:
        fill_class(cls, namespace)


def new_exception(cls, args):
    """An exception of the program's own class, made without calling its __init__."""
    exc = cls.__new__(cls, *args)
    exc.args = args
    return exc


def fill_exception(exc, state) -> None:
    """Its state and its chain (__cause__, __context__, __suppress_context__)."""
    own, (cause, context, suppress) = state
    if own:
        if hasattr(exc, "__setstate__"):
            exc.__setstate__(own)
        else:
            exc.__dict__.update(own)
    exc.__cause__, exc.__context__ = cause, context
    exc.__suppress_context__ = suppress


def new_function(module: ModuleType, key: str, closure):
    """A compiled function, from its module and code key."""
    code = module.__dict__["__swarm_compiled__"].code_by_key(key)
    return FunctionType(code, module.__dict__, code.co_name, None, closure)


def fill_function(fn, state) -> None:
    """Its names, defaults, attributes, docstring and annotations."""
    name, qualname, defaults, kwdefaults, fdict, doc, *annotations = state
    if annotations and annotations[0]:  # (before: lost - {} after a hop)
        fn.__annotations__ = annotations[0]
    fn.__name__ = name
    fn.__qualname__ = qualname
    fn.__defaults__ = defaults
    fn.__kwdefaults__ = kwdefaults
    fn.__doc__ = doc
    if fdict:
        fn.__dict__.update(fdict)


def new_cell():
    """An empty closure cell."""
    return types.CellType()  # (pickle cannot name types.CellType itself: builtins.cell)


def fill_cell(cell, contents) -> None:
    """Its contents (none if it was empty)."""
    if contents is not EMPTY_CELL:
        cell.cell_contents = contents


class _Plain:
    """The stand-in base a class is made with before it gets its own (new_class)."""


def new_class(meta, name, bases, qualname, module, slots):
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


def fill_class(cls, namespace: dict) -> None:
    """Its namespace, set without the metaclass's __setattr__; an ABC's registry made
    again."""
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
