"""Support for compiled code: the names it calls, bound as the global `__swarm_support__` in
every compiled module.

Kept to the names the compiler emits, so the generated code reads plainly:
`Capture` (handlers), `on_capture`/`on_capture_next` (a frame's record), `resume_next`
(a resumed call site), `Box` (a variable shared with a closure), `PRIMED` (priming yield).
"""

import builtins
import weakref

from swarm.continuation.capture import RESUMED, Capture
from swarm.continuation.generators import PRIMED
from swarm.continuation.resume import resume_next
from swarm.continuation.unwind import on_capture, on_capture_at, on_capture_next


class Box:
    """A variable that closures share. Moved into a box so the sharing survives pickling
    (pickle keeps object identity) and resumers, which are separate functions, can reach it."""

    __slots__ = ("v", "name")

    def __init__(self, name: str, *value) -> None:
        self.name = name
        if value:
            self.v = value[0]

    def __getattr__(self, attr):  # only reached when `v` is unset: the variable is unbound
        if attr == "v":
            raise UnboundLocalError(f"cannot access local variable {self.name!r} where it is "
                                    "not associated with a value")
        raise AttributeError(attr)

    def __reduce__(self):
        try:
            return (Box, (self.name,), (self.v,), None, None, _fill_box)
        except UnboundLocalError:
            return (Box, (self.name,))


def _fill_box(box, state) -> None:
    box.v = state[0]


def user_locals(frame_locals: dict) -> dict:
    """What `locals()` shows the user: the compiler's temporaries hidden, boxes unwrapped."""
    out = {}
    for key, value in frame_locals.items():
        if key.startswith("_sw_box_"):
            try:
                out[key[8:]] = value.v
            except UnboundLocalError:
                pass
        elif not key.startswith("_sw_"):
            out[key] = value
    return out


class ClassModules(weakref.WeakKeyDictionary):
    """class -> its module (or None), holding neither: a class goes when nothing else holds it,
    and so does its module.

    Discussion: a plain WeakKeyDictionary holds its values strongly. The module's globals hold
    the class (a class statement binds it there), so the value kept its own key alive: every
    program that defined a class stayed in the node's memory, module and globals, for ever."""

    def __setitem__(self, cls, module) -> None:
        super().__setitem__(cls, None if module is None else weakref.ref(module))

    def __getitem__(self, cls):
        ref = super().__getitem__(cls)
        if ref is None:
            return None
        module = ref()
        if module is None:  # (its module went first: forgotten, as if never noted)
            raise KeyError(cls)
        return module

    def get(self, cls, default=None):
        try:
            return self[cls]
        except KeyError:
            return default


#: class -> the compiled module whose code defined it (own_class; the codec reads it)
CLASS_MODULES = ClassModules()


def own_class(cls, module) -> None:
    """Called after each `class` statement of a compiled module."""
    if isinstance(cls, type):
        try:
            CLASS_MODULES[cls] = module
        except TypeError:  # pragma: no cover - a class that refuses weak references
            pass


def import_star(namespace: dict, name: str, level: int) -> None:
    """`from <name> import *` at a module's top level, into its globals `namespace`, as
    CPython runs it: every name of the module's `__all__` (its submodules imported), else
    every name of its namespace not starting with `_`.

    Discussion: a module's resumer is a function, where CPython refuses `import *`
    (a SyntaxError compiling it: xml.etree.ElementTree's `from _elementtree import *`);
    the compiler calls this instead (compiler/hiding.py), in the module's code too, the
    two sharing their statements."""
    module = builtins.__import__(name, namespace, None, ("*",), level)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [k for k in module.__dict__ if not k.startswith("_")]
    for k in names:
        namespace[k] = getattr(module, k)


ONCE = (None,)
iter = iter  # for modules that rebind the builtin names the compiler emits
next = next
locals = locals
getattr = getattr

__all__ = ["Box", "CLASS_MODULES", "Capture", "ONCE", "PRIMED", "RESUMED", "on_capture",
           "import_star", "on_capture_at", "on_capture_next", "own_class", "resume_next", "user_locals"]
