"""What compiled Skywriting calls at run time: builtins, operators with Skywriting's
semantics, futures, executors, and turning a Python error into a located SkywritingError.

Installed code (pickled by reference) that never suspends: `*f` compiles to
`future(f).get()`, so the wait (which may move the program to the future's home and park it
there) is called from the script's own compiled code.
"""

from __future__ import annotations

import importlib
import json
import sys
from types import FunctionType

from swarm.futures import Future, TaskFailed, spawn
from swarm.refs import Ref
from swarm.skywriting.errors import SkywritingError

sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))  # plain recursion of 1,000+


class _Unbound:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNBOUND"

    def __reduce__(self):
        return "UNBOUND"


UNBOUND = _Unbound()


def unbound(name: str):
    raise SkywritingError(f"unbound name '{name}'")


# ---- text ---------------------------------------------------------------------------------
def text(x) -> str:
    """str(x): JSON-style text; a string is itself."""
    return x if isinstance(x, str) else _json(x)


def _json(x) -> str:
    if x is None:
        return "null"
    if x is True:
        return "true"
    if x is False:
        return "false"
    if isinstance(x, (int, float, str)):
        return json.dumps(x)
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_json(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{_json(text(k))}: {_json(v)}" for k, v in x.items()) + "}"
    if isinstance(x, Future):  # the original's encoding of a future reference
        return _json({"__ref__": ["f2", x.id]})
    if isinstance(x, Ref):
        return _json({"__ref__": ["ref", x.id, x.hint]})
    if isinstance(x, FunctionType):  # no JSON form: print/str and the console only
        name = x.__name__
        return f"<function {name[2:] if name.startswith('v_') else 'anonymous'}>"
    return f"<{type(x).__name__}>"


def not_json(x) -> str | None:
    """What in `x` has no JSON form (a function, a host object), or None if it all has."""
    if x is None or isinstance(x, (bool, int, float, str, Future, Ref)):
        return None
    if isinstance(x, (list, tuple)):
        return next((found for v in x if (found := not_json(v))), None)
    if isinstance(x, dict):
        return next((found for v in x.values() if (found := not_json(v))), None)
    if isinstance(x, FunctionType):
        return _json(x)
    return f"a value of the host type {type(x).__name__}"


def result(x):
    """A script's result (its top-level `return`): JSON, so a function in it is an error
    (as in the original, whose result was JSON-encoded); futures and references in it are
    {"__ref__": [...]} objects."""
    found = not_json(x)
    if found:
        raise SkywritingError(f"the script's result must be JSON, and it holds {found}")
    return x


def to_json(x):
    """A result as JSON text (the last line `swarm run` prints)."""
    return _json(x)


# ---- builtins (names end in _: compiled code calls _sk.print_ for `print`) -----------------
def print_(x=None, *extra) -> bool:
    print(text(x))
    return True


def int_(x, *extra) -> int:
    try:
        return int(x)
    except (TypeError, ValueError):
        raise SkywritingError(f"int() of {_kind(x)} {text(x)}") from None


def str_(x, *extra) -> str:
    return text(x)


def range_(*args) -> list:
    if not 1 <= len(args) <= 3 or not all(isinstance(a, int) for a in args):
        raise SkywritingError("range() takes 1 to 3 integers")
    return list(range(*args))


def len_(x, *extra) -> int:
    if not isinstance(x, (list, str, dict)):
        raise SkywritingError(f"len() of {_kind(x)}")
    return len(x)


def has_key_(d, k, *extra) -> bool:
    """`k in d`, as the original: a dict's key, a list's element, a string's substring."""
    if isinstance(d, dict):
        return _hashable(k, "has_key") in d
    if isinstance(d, list):
        return k in d
    if isinstance(d, str):
        if not isinstance(k, str):
            raise SkywritingError(f"has_key(string, k): k must be a string, not {_kind(k)}")
        return k in d
    raise SkywritingError(f"has_key() of {_kind(d)}: takes a dict, a list or a string")


def get_key_(d, k, default=None, *extra):
    """`d[k] if k in d else default`, as the original. On a list that is membership, then
    indexing: get_key([0, 5, 2], 2, x) is item 2 (2), get_key([5], 1, x) is x; a key that is
    an element but not an index is an error (the original failed there too)."""
    if isinstance(d, dict):
        return d.get(_hashable(k, "get_key"), default)
    if not has_key_(d, k):
        return default
    if isinstance(d, list) and isinstance(k, int) and -len(d) <= k < len(d):
        return d[k]
    raise SkywritingError(f"get_key: {_json(k)} is in the {_kind(d)[2:]}, but is not an "
                          f"index of it (get_key on a list tests membership, then indexes)")


def _hashable(k, name: str):
    if isinstance(k, (list, dict)):
        raise SkywritingError(f"{name}: a dict's key cannot be {_kind(k)}")
    return k


def env_dict() -> dict:
    return dict(_launch().get("env", {}))


def argv_list() -> list:
    return list(sys.argv[2:])


def package_(key, *extra) -> Ref:
    """A Ref holding the bytes of the file given as `swarm run --package key=PATH` (read on
    the node the script runs on: on a local cluster, the same file system)."""
    packages = _launch().get("packages", {})
    if key not in packages:
        raise SkywritingError(f"no package '{key}' (swarm run --package {key}=PATH)")
    try:
        with open(packages[key], "rb") as f:
            return Ref(f.read())
    except OSError as e:
        raise SkywritingError(f"package '{key}': cannot read {packages[key]}: {e.strerror}") \
            from None


def _launch() -> dict:
    """What `swarm run` passed besides the arguments (argv[1], JSON: env, packages)."""
    try:
        return json.loads(sys.argv[1])
    except (IndexError, ValueError):
        return {}


# ---- the console's session (console.py; translate.Translator.session_start) ---------------
def session_ref() -> Ref:
    """The Ref holding the console session's variables (launch JSON "session": [id, node]),
    or a new empty one here for the session's first entry."""
    where = _launch().get("session")
    return Ref._handle(*where) if where else Ref({})


def session_vars(variables: dict) -> dict:
    return {name: value for name, value in variables.items() if value is not UNBOUND}


def session_result(session: Ref, value, variables: dict) -> dict:
    """What a console entry returns: where its session is, the names of its variables, and
    its value as JSON text."""
    return {"session": [session.id, session.hint], "names": sorted(variables),
            "value": None if value is None else to_json(value)}


def spawn_(task, fn=None, args=None, *extra) -> Future:
    if not isinstance(fn, FunctionType):
        raise SkywritingError(f"spawn() of {_kind(fn)}, not a function")
    if not isinstance(args, list):
        raise SkywritingError("spawn(f, args): args must be a list")
    return spawn(task, fn, args)


def spawn_exec_(runner, executor=None, args=None, n=1, *extra) -> list:
    """spawn_exec(executor, args, n): a task running the executor; a list of n futures. The
    python executor's function returns a list of n values when n > 1 (output i is item i:
    a small task beside the executor's result picks it out); stdinout has one output."""
    if executor not in EXECUTORS:
        raise SkywritingError(f"unknown executor {text(executor)!r} (have: "
                              f"{', '.join(sorted(EXECUTORS))})")
    if not isinstance(args, dict):
        raise SkywritingError("executor arguments must be a dict")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise SkywritingError(f"spawn_exec: n must be a positive number, not {text(n)}")
    if n != 1 and executor != "python":
        raise SkywritingError(f"the {executor} executor has one output; n must be 1, not {n}")
    result = spawn(runner, executor, args)
    if n == 1:
        return [result]
    return [spawn(output, result, i, n) for i in range(n)]


def output(result: Future, i: int, n: int):
    """Output i of an executor with n outputs (placed beside `result`, so waiting is local)."""
    values = result.get()
    if not isinstance(values, (list, tuple)) or len(values) != n:
        raise SkywritingError(f"the python executor's function must return a list of {n} "
                              f"outputs, not {text(values)}")
    return values[i]


exec_ = spawn_exec_


def sw_grab_(url, *extra) -> Ref:
    """grab(url): a Ref holding the bytes at a file:// or http(s):// URL (read here)."""
    import urllib.request

    if not isinstance(url, str) or not url.startswith(("file://", "http://", "https://")):
        raise SkywritingError(f"grab() takes a file:// or http:// URL, not {text(url)}")
    with urllib.request.urlopen(url) as f:
        return Ref(f.read())


def executor_inputs(executor: str, args: dict) -> list:
    """What an executor needs the values of (futures and Refs are waited for in compiled
    code, so that waiting migrates)."""
    if executor == "stdinout":
        return list(args.get("inputs", []))
    return list(args.get("args", []))


def is_waitable(x) -> bool:
    return isinstance(x, (Future, Ref))


def run_executor(executor: str, args: dict, inputs: list):
    return EXECUTORS[executor](args, inputs)


def _stdinout(args: dict, inputs: list):
    """Run command_line with the inputs on standard input (a Ref's bytes as they are, any
    other value as its JSON text - a string with its quotes, as the original stored a
    task's result); output 0 is standard output, parsed as JSON (else text). The
    command runs in a thread of the node (run_in_thread): the node goes on serving, and the
    task waits parked."""
    import subprocess

    from swarm.node import traps

    command = [text(c) for c in args.get("command_line", [])]
    if not command:
        raise SkywritingError("stdinout: command_line is empty")
    data = b"".join(v if isinstance(v, bytes) else _json(v).encode() for v in inputs)
    try:
        proc = traps.run_in_thread(subprocess.run, command, input=data,
                                            capture_output=True)
    except OSError as e:
        raise SkywritingError(f"stdinout: cannot run {command[0]}: {e.strerror}") from None
    if proc.returncode != 0:
        raise SkywritingError(f"stdinout: {' '.join(command)} exited with {proc.returncode}: "
                              f"{proc.stderr.decode(errors='replace').strip()}")
    out = proc.stdout.decode(errors="replace")
    try:
        return json.loads(out)
    except ValueError:
        return out


def _python(args: dict, inputs: list):
    return python_function(args.get("function"))(*inputs)


EXECUTORS = {"stdinout": _stdinout, "python": _python}


def python_function(name: str):
    """`module:function` for the python executor (the module ships like any program code)."""
    module, _, attr = str(name).partition(":")
    if not module or not attr:
        raise SkywritingError(f"python executor: function must be 'module:name', not {name!r}")
    return getattr(importlib.import_module(module), attr)


# ---- operators ----------------------------------------------------------------------------
def _kind(x) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "a boolean"
    if isinstance(x, (int, float)):
        return "a number"
    if isinstance(x, str):
        return "a string"
    if isinstance(x, list):
        return "a list"
    if isinstance(x, dict):
        return "a dict"
    if isinstance(x, Future):
        return "a future"
    if isinstance(x, FunctionType):
        return "a function"
    return type(x).__name__


def _dict(d) -> dict:
    if not isinstance(d, dict):
        raise SkywritingError(f"expected a dict, got {_kind(d)}")
    return d


def _number(x) -> bool:
    """Numbers, and the booleans with them: as in the original (Python), true is 1 and
    false is 0 in arithmetic and comparisons (`true + 1` is 2)."""
    return isinstance(x, (int, float))


def add(a, b):
    if _number(a) and _number(b):
        return a + b
    if type(a) is type(b) and isinstance(a, (str, list)):
        return a + b
    raise SkywritingError(f"cannot apply + to {_kind(a)} and {_kind(b)}")


def sub(a, b):
    if not (_number(a) and _number(b)):
        raise SkywritingError(f"cannot apply - to {_kind(a)} and {_kind(b)}")
    return a - b


def neg(a):
    if not _number(a):
        raise SkywritingError(f"cannot negate {_kind(a)}")
    return -a


_ORDER = {"<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
          ">=": lambda a, b: a >= b}


def compare(op: str, a, b) -> bool:
    """a < b (and >, <=, >=): numbers (booleans among them) with numbers, strings with
    strings, lists with lists (item by item). The original (Python 2) also ordered values of
    different kinds, by an arbitrary rule; here that is an error."""
    if (_number(a) and _number(b)) or (type(a) is type(b) and isinstance(a, (str, list))):
        try:
            return _ORDER[op](a, b)
        except TypeError:
            pass  # lists whose items cannot be ordered
    raise SkywritingError(f"cannot compare {_kind(a)} and {_kind(b)} with {op}")


def iadd(x, v):
    """x += v: a list appends v (even a list, as one element); anything else is x + v."""
    if isinstance(x, list):
        x.append(v)
        return x
    return add(x, v)


def getitem(obj, key):
    if isinstance(obj, dict):
        if _hashable(key, "index") not in obj:
            raise SkywritingError(f"no key {text(key) if isinstance(key, str) else _json(key)}"
                                  " in the dict")
        return obj[key]
    if isinstance(obj, (list, str)):
        if not isinstance(key, int):  # a boolean indexes as 0 or 1, as in the original
            raise SkywritingError(f"index of {_kind(obj)} must be a number, not {_kind(key)}")
        if not -len(obj) <= key < len(obj):
            raise SkywritingError(f"index {key} out of range (length {len(obj)})")
        return obj[key]
    raise SkywritingError(f"cannot index {_kind(obj)}")


def setitem(obj, key, value) -> None:
    if isinstance(obj, dict):
        obj[_hashable(key, "assignment")] = value
        return
    if isinstance(obj, list):
        if not isinstance(key, int):
            raise SkywritingError(f"index of a list must be a number, not {_kind(key)}")
        if key >= len(obj):
            obj.extend([None] * (key + 1 - len(obj)))
        elif key < -len(obj):
            raise SkywritingError(f"index {key} out of range (length {len(obj)})")
        obj[key] = value
        return
    raise SkywritingError(f"cannot assign into {_kind(obj)}")


def iadd_item(obj, key, v) -> None:
    setitem(obj, key, iadd(getitem(obj, key), v))


def iterate(x) -> list:
    if isinstance(x, (list, str)):
        return list(x)
    if isinstance(x, dict):
        return list(x.keys())
    raise SkywritingError(f"cannot iterate over {_kind(x)}")


def callable(f):  # noqa: A001 - the check before a call
    if not isinstance(f, FunctionType):
        raise SkywritingError(f"{_kind(f)} is not a function")
    return f


def future(x) -> Future:
    """*x is future(x).get(): a future's value (waiting where it will appear); `*` of
    anything else is an error."""
    if not isinstance(x, Future):
        raise SkywritingError(f"* of {_kind(x)}, which is not a future")
    return x


# ---- errors -------------------------------------------------------------------------------
def locate(error: BaseException) -> tuple[str, int, int]:
    """file, line, column of the innermost Skywriting frame in the error's traceback."""
    where = ("", 0, 0)
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(".sw"):
            positions = list(code.co_positions())
            index = tb.tb_lasti // 2
            line, col = tb.tb_lineno, 0
            if 0 <= index < len(positions) and positions[index][2] is not None:
                line, col = positions[index][0] or line, positions[index][2]
            where = (code.co_filename, line, col + 1)
        tb = tb.tb_next
    return where


def fail(error: BaseException):
    """Raise `error` as a SkywritingError located at its innermost script frame."""
    if isinstance(error, SkywritingError) and error.filename:
        raise error
    filename, line, col = locate(error)
    message = error.message if isinstance(error, SkywritingError) else _python_message(error)
    raise SkywritingError(message, filename, line, col) from None


def _python_message(error: BaseException) -> str:
    text_ = str(error).replace("v_", "")
    if isinstance(error, TypeError) and "required positional argument" in text_:
        return "missing argument: " + text_.split(": ", 1)[-1]
    if isinstance(error, RecursionError):
        return "recursion too deep"
    if isinstance(error, TaskFailed):
        return f"the task failed: {error}"
    return f"{type(error).__name__}: {text_}"
