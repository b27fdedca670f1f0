"""Skywriting's built-in functions and values: print, int, str, range, len, has_key, get_key,
env, argv, package, spawn, spawn_exec (exec), grab; the executors spawn_exec runs; and what a
console entry calls to keep its session's variables (console.py).

Installed code (pickled by reference) that never suspends: compiled scripts call a built-in
`name` as `name_` of this module (`print_`: the names of Python's own built-ins stay free).
Waiting - `*f`, a Ref's value - happens in the script's own compiled code, so it may migrate.
"""

from __future__ import annotations

import importlib
import json
import sys
from types import FunctionType

from swarm.futures import Future, spawn
from swarm.refs import Ref
from swarm.skywriting.errors import SkywritingError
from swarm.skywriting.values import UNBOUND, hashable_key, json_text, kind, text, to_json

sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))  # plain recursion of 1,000+


def print_(x=None, *extra) -> bool:
    """print(x): its text (a string as it is, anything else as JSON)."""
    print(text(x))
    return True


def int_(x, *extra) -> int:
    """int(x): a number or a string of digits as an integer."""
    try:
        return int(x)
    except (TypeError, ValueError):
        raise SkywritingError(f"int() of {kind(x)} {text(x)}") from None


def str_(x, *extra) -> str:
    """str(x): its text."""
    return text(x)


def range_(*args) -> list:
    """range(n), range(a, b), range(a, b, step): a list."""
    if not 1 <= len(args) <= 3 or not all(isinstance(a, int) for a in args):
        raise SkywritingError("range() takes 1 to 3 integers")
    return list(range(*args))


def len_(x, *extra) -> int:
    """len(x) of a list, a string or a dict."""
    if not isinstance(x, (list, str, dict)):
        raise SkywritingError(f"len() of {kind(x)}")
    return len(x)


def has_key_(d, k, *extra) -> bool:
    """`k in d`, as the original: a dict's key, a list's element, a string's substring."""
    if isinstance(d, dict):
        return hashable_key(k, "has_key") in d
    if isinstance(d, list):
        return k in d
    if isinstance(d, str):
        if not isinstance(k, str):
            raise SkywritingError(f"has_key(string, k): k must be a string, not {kind(k)}")
        return k in d
    raise SkywritingError(f"has_key() of {kind(d)}: takes a dict, a list or a string")


def get_key_(d, k, default=None, *extra):
    """`d[k] if k in d else default`, as the original. On a list that is membership, then
    indexing: get_key([0, 5, 2], 2, x) is item 2 (2), get_key([5], 1, x) is x; a key that is
    an element but not an index is an error (the original failed there too)."""
    if isinstance(d, dict):
        return d.get(hashable_key(k, "get_key"), default)
    if not has_key_(d, k):
        return default
    if isinstance(d, list) and isinstance(k, int) and -len(d) <= k < len(d):
        return d[k]
    raise SkywritingError(f"get_key: {json_text(k)} is in the {kind(d)[2:]}, but is not an "
                          f"index of it (get_key on a list tests membership, then indexes)")




def env_dict() -> dict:
    """`env`: the variables given as `swarm run --env K=V`."""
    return dict(_launch().get("env", {}))


def argv_list() -> list:
    """`argv`: the script's arguments."""
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
    """The console entry's variables that have a value."""
    return {name: value for name, value in variables.items() if value is not UNBOUND}


def session_result(session: Ref, value, variables: dict) -> dict:
    """What a console entry returns: where its session is, the names of its variables, and
    its value as JSON text."""
    return {"session": [session.id, session.hint], "names": sorted(variables),
            "value": None if value is None else to_json(value)}


def spawn_(task, fn=None, args=None, *extra) -> Future:
    """spawn(f, args): a task calling f(*args) (through the prelude's `task` runner); its
    future."""
    if not isinstance(fn, FunctionType):
        raise SkywritingError(f"spawn() of {kind(fn)}, not a function")
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
    """Is it a future or a reference (a value the executor waits for first)?"""
    return isinstance(x, (Future, Ref))


def run_executor(executor: str, args: dict, inputs: list):
    """Run an executor with the values of its inputs."""
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
    data = b"".join(v if isinstance(v, bytes) else json_text(v).encode() for v in inputs)
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
