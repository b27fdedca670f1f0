"""A function call as a program: what `Cluster.run(fn, *args, **kwargs)` sends and gets back.

    entry = call_program(fn, args, kwargs)   # a script that imports (or holds) fn and calls it
    cluster.submit(entry.path, entry.argv, prepared=entry.prepared)
    value = returned(outcome)                # fn's value, or its exception raised here

The program is an ordinary script (`__swarm_call__.py`) run like any other, so the call
migrates like one. It gets the arguments from its argv (pickled, in base64), calls the
function, and leaves `RESULT`: the pickled value, or the pickled exception and its
traceback's text. The client unpickles that: `run` returns the value or raises the very
exception the function raised (its remote traceback added as a note).

Where the function comes from:
- a module that can be imported (`mymod.fn`, `pkg.mod.Class.method` of a static or class
  method, `math.factorial`): the program imports it. Modules of the user's (not in the
  standard library or site-packages) ship with the program, found from their imports like a
  script's (swarm/program_files.py); installed ones are imported on the nodes as they are.
- `__main__` (a REPL, a notebook cell, or the script that calls `run`): its source (from
  `inspect`, which sees a file, a notebook cell or a Python 3.13 REPL entry) is put in the
  program, with what it uses from `__main__`: the functions and classes it names (their
  sources too, at any depth), the modules it names (imported by the same names), names
  imported from other modules (imported again), and the other values it names (pickled
  with the arguments). Classes of `__main__` among the arguments go with their sources.

Discussion: `__main__` on both sides. The program's `__main__` is the call's script, so a
class defined in the client's `__main__` has the same module and qualname there. Arguments
are unpickled against the program's globals and the value is pickled with `__main__`'s
functions and classes by reference, so that the client, whose `__main__` holds the originals,
gets instances of its own classes back.
"""

from __future__ import annotations

import base64
import builtins
import inspect
import io
import os
import pickle
import re
import sys
import sysconfig
import textwrap
import traceback
import types
from dataclasses import dataclass

ENTRY_NAME = "__swarm_call__.py"
_ENTRY_FRAME = re.compile(r'  File ".*[/\\]__swarm_call__\.py", line \d+, in <module>$')


class CallError(TypeError):
    """A function (or an argument) that cannot be sent to the cluster; the message says why
    and what to do."""


@dataclass
class CallProgram:
    """The script that runs one call: its path (it names it; no file is written), text, the
    directories its modules are found in, and its argv (the pickled arguments)."""

    path: str
    text: str
    roots: list[str]
    argv: list[str]


def _installed(path: str) -> bool:
    """A file of the standard library or of an installed package (the nodes have them)."""
    path = os.path.realpath(path)
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        where = sysconfig.get_paths().get(key)
        if where and path.startswith(os.path.realpath(where) + os.sep):
            return True
    return "site-packages" + os.sep in path or "dist-packages" + os.sep in path


def _module_root(module: types.ModuleType) -> str:
    """The sys.path directory a module was imported from (its top package's parent)."""
    path = os.path.abspath(module.__file__)
    depth = module.__name__.count(".") + (os.path.basename(path) == "__init__.py")
    root = os.path.dirname(path)
    for _ in range(depth):
        root = os.path.dirname(root)
    return root


class _ArgPickler(pickle.Pickler):
    """Pickles the arguments, noting the classes and functions of `__main__` they hold (their
    sources go into the program)."""

    def __init__(self, file) -> None:
        super().__init__(file, protocol=5)
        self.main_objects: dict[str, object] = {}

    def reducer_override(self, obj):
        if isinstance(obj, (type, types.FunctionType)) and obj.__module__ == "__main__":
            self.main_objects[obj.__qualname__.split(".")[0]] = obj
        return NotImplemented


def _pickled(value, what: str) -> tuple[bytes, dict]:
    buf = io.BytesIO()
    pickler = _ArgPickler(buf)
    try:
        pickler.dump(value)
    except Exception as e:
        raise CallError(f"{what} cannot be sent to the cluster: {type(e).__name__}: {e}") from None
    return buf.getvalue(), pickler.main_objects


def call_program(fn, args: tuple, kwargs: dict) -> CallProgram:
    """The program that calls fn(*args, **kwargs) on the cluster (see the module's doc)."""
    if not callable(fn) or not hasattr(fn, "__qualname__") or not hasattr(fn, "__module__"):
        raise CallError(f"{fn!r} is not a function or class of a module (Cluster.run takes a "
                        f"function defined with def, a class, or a method of one)")
    module_name, qualname = fn.__module__, fn.__qualname__
    if "<locals>" in qualname or "<lambda>" in qualname:
        raise CallError(f"{module_name}.{qualname} is defined inside a function or is a lambda: "
                        f"the cluster can only find a function by its name in a module; "
                        f"define it with def at a module's top level")
    packed, main_objects = _pickled((args, kwargs), "an argument")
    if module_name == "__main__":
        return _main_call(fn, packed, main_objects)
    module = sys.modules.get(module_name)
    if module is None:
        raise CallError(f"the module {module_name} of {qualname} is not imported")
    head, _, rest = qualname.partition(".")
    lines = [f"from {module_name} import {head} as _swarm_target"]
    roots: list[str] = []
    if getattr(module, "__file__", None) and not _installed(module.__file__):
        roots = [_module_root(module)]
    where = roots[0] if roots else os.getcwd()
    if main_objects:  # classes of __main__ among the arguments: their sources
        imports: list[str] = []
        sources: list[str] = []
        _sources_of(main_objects, vars(sys.modules["__main__"]), set(), imports, sources, {})
        lines[:0] = imports + sources
    target = "_swarm_target" + (f".{rest}" if rest else "")
    return _program(where, roots, lines, target, packed, f"{module_name}.{qualname}")


def _program(where: str, roots: list[str], lines: list[str], target: str, packed: bytes,
             label: str, values: bytes | None = None) -> CallProgram:
    text = "\n".join([
        f'"""{label}(...) run on the cluster (Cluster.run): swarm/calls.py."""',
        "import sys as _swarm_sys",
        "from swarm.calls import arguments as _swarm_arguments, finish as _swarm_finish",
        *lines,
        "_swarm_args, _swarm_kwargs = _swarm_arguments(_swarm_sys.argv, globals())",
        "try:",
        f"    _swarm_value = {target}(*_swarm_args, **_swarm_kwargs)",
        "except BaseException as _swarm_error:",
        "    RESULT = _swarm_finish(None, _swarm_error, globals())",
        "else:",
        "    RESULT = _swarm_finish(_swarm_value, None, globals())",
        ""])
    argv = [base64.b64encode(packed).decode()]
    if values is not None:
        argv.append(base64.b64encode(values).decode())
    return CallProgram(os.path.join(where, ENTRY_NAME), text, roots, argv)


def _main_call(fn, packed: bytes, main_objects: dict) -> CallProgram:
    main = sys.modules["__main__"]
    main_file = getattr(main, "__file__", None)
    where = os.path.dirname(os.path.abspath(main_file)) if main_file else os.getcwd()
    head, _, rest = fn.__qualname__.partition(".")
    wanted = dict(main_objects)
    wanted[head] = getattr(main, head, fn)
    imports: list[str] = []
    sources: list[str] = []
    values: dict = {}
    done: set[str] = set()
    while wanted:  # values of __main__ classes bring those classes' sources along
        _sources_of(wanted, vars(main), done, imports, sources, values)
        packed_values, more = _pickled(values, "a global of __main__ that the function uses")
        wanted = {name: obj for name, obj in more.items() if name not in done}
    lines = [*imports, *sources,
             "globals().update(_swarm_arguments(_swarm_sys.argv, globals(), 2))"]
    target = head + (f".{rest}" if rest else "")
    return _program(where, [where], lines, target, packed, f"__main__.{fn.__qualname__}",
                    packed_values)


def _source(obj) -> str:
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        raise CallError(
            f"cannot find the source of {obj.__qualname__}, defined in __main__ where Python "
            f"kept no source (the interactive interpreter before 3.13): define it in a "
            f"module (a .py file) and import it, or in a notebook cell") from None


def _sources_of(wanted: dict, namespace: dict, done: set, imports: list[str],
                sources: list[str], values: dict) -> None:
    """Add what defines the `__main__` objects in `wanted` (name -> object), and what they
    use from `namespace`: import lines, sources in dependency order, and the other values
    they use (to be pickled)."""

    def visit(name: str, obj) -> None:
        if name in done:
            return
        done.add(name)
        if isinstance(obj, types.ModuleType):
            top = obj.__name__
            imports.append(f"import {top}" if name == top else f"import {top} as {name}")
            return
        module = getattr(obj, "__module__", None)
        if isinstance(obj, (type, types.FunctionType)) and module == "__main__":
            text = _source(obj)
            for used in _names_used(obj, text):
                if used in namespace and used != name:
                    visit(used, namespace[used])
            sources.append(text)
            return
        qualname = getattr(obj, "__qualname__", None)
        if (module and qualname and "." not in qualname and "<" not in qualname
                and getattr(sys.modules.get(module), qualname, None) is obj):
            imports.append(f"from {module} import {qualname}"
                           + ("" if name == qualname else f" as {name}"))
            return
        if name.startswith("__") or (name in vars(builtins) and obj is vars(builtins)[name]):
            return
        try:
            pickle.dumps(obj, protocol=5)
        except Exception as e:
            raise CallError(f"the global {name!r} of __main__, which the function uses, cannot "
                            f"be sent to the cluster ({type(e).__name__}: {e}): pass what it "
                            f"needs as an argument") from None
        values[name] = obj

    for name, obj in wanted.items():
        visit(name, obj)


def _names_used(obj, source: str) -> set[str]:
    """The global names a definition may read: the names its code looks up (in its body,
    decorators, defaults, bases, and the code nested in them) - not its locals, which may
    share a global's name. From the bytecode (program_files.compiled says why not the AST)."""
    names: set[str] = set()
    codes = [compile(source, "<definition>", "exec", dont_inherit=True)]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return names


# ---- on the node: in the program ---------------------------------------------------------
class _MainUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, namespace: dict) -> None:
        super().__init__(io.BytesIO(data))
        self.namespace = namespace

    def find_class(self, module: str, name: str):
        if module == "__main__":
            obj = self.namespace[name.split(".")[0]]
            for part in name.split(".")[1:]:
                obj = getattr(obj, part)
            return obj
        return super().find_class(module, name)


def arguments(argv: list[str], namespace: dict, index: int = 1):
    """The call's arguments (args, kwargs), or its globals (index 2), unpickled in the
    program (its `__main__` is `namespace`)."""
    return _MainUnpickler(base64.b64decode(argv[index]), namespace).load()


def main_object(qualname: str):
    """A function or class of `__main__`, found by name where this is unpickled."""
    obj = sys.modules["__main__"]
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class _ResultPickler(pickle.Pickler):
    """Pickles `__main__`'s functions and classes by name, for the client's `__main__`."""

    def __init__(self, file, namespace: dict) -> None:
        super().__init__(file, protocol=5)
        self.namespace = namespace

    def reducer_override(self, obj):
        if (isinstance(obj, (type, types.FunctionType)) and obj.__module__ == "__main__"
                and self.namespace.get(obj.__qualname__.split(".")[0]) is not None):
            return main_object, (obj.__qualname__,)
        return NotImplemented


def finish(value, error: BaseException | None, namespace: dict) -> bytes:
    """What the call leaves as RESULT: pickled ("value", value) or ("error", exception,
    traceback text); an exception that does not pickle goes as its text."""
    if error is None:
        payload = ("value", value)
    else:
        text = "".join(traceback.format_exception(error))
        payload = ("error", error, text)
    buf = io.BytesIO()
    try:
        _ResultPickler(buf, namespace).dump(payload)
    except Exception as e:
        if error is None:
            raise TypeError(f"the function's value cannot be sent back: {type(e).__name__}: "
                            f"{e}") from None
        buf = io.BytesIO()
        pickle.dump(("error", None, text), buf, protocol=5)
    return buf.getvalue()


# ---- back on the client ------------------------------------------------------------------
class ProgramFailed(Exception):
    """A program (or a call) raised an exception that cannot be rebuilt here; str() is its
    error line, `.traceback` its traceback (the user's frames)."""

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback


def _call_traceback(text: str) -> str:
    """The user's frames of a call's traceback: swarm's own dropped (exits.py), and the
    frame of the call's script at its top level (the functions of __main__ it holds are the
    user's and stay)."""
    from swarm.exits import user_traceback

    out, skipping = [], False
    for line in user_traceback(text).splitlines(keepends=True):
        if line.startswith('  File "'):
            skipping = bool(_ENTRY_FRAME.match(line))
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


def returned(outcome):
    """The value of a call's outcome, or raise its exception (with the remote traceback as a
    note); ProgramFailed if the program itself failed (it could not start, say)."""
    user_traceback = _call_traceback

    if outcome.error or not isinstance(outcome.value, bytes):
        raise ProgramFailed(outcome.error or f"the call left no result ({outcome.value!r})",
                            user_traceback(outcome.traceback))
    kind, *rest = pickle.loads(outcome.value)
    if kind == "value":
        return rest[0]
    error, text = rest
    shown = user_traceback(text)
    if error is None:
        raise ProgramFailed(shown.strip().splitlines()[-1] if shown.strip() else "failed", shown)
    if not isinstance(error, SystemExit):
        last = "".join(traceback.format_exception_only(error))
        if shown.endswith(last):  # Python prints the error line itself, before the notes
            shown = shown[:-len(last)]
        error.add_note(f"[swarm] raised on the cluster:\n{shown.rstrip()}")
    raise error
