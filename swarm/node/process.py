"""A program's own process state on a node, swapped in and out with its greenlet.

Many programs share one node process, and each must see the process as if it were its own,
the way it would under `python`:

| state | per program | travels with a hop |
| --- | --- | --- |
| sys.argv | its own | yes (meta `argv`) |
| os.environ (and the C environment subprocesses inherit) | the node's, plus its changes | its changes (`environ`) |
| working directory | the directory it was started from (the client's), then its chdir (os.chdir, os.fchdir: noted) | yes (`cwd`) |
| sys.path | the node's, plus its additions | its additions (`path_head`, `path_tail`) |
| sys.modules["__main__"] | its script's module (pickle, multiprocessing find `__main__` functions) | (its module is in the continuation) |
| random's global generator | a generator of its own, seeded as in a fresh interpreter, made at its first draw (FirstDraw) | its state, once used (continuation/process_state.py) |
| decimal's context | its own (a greenlet has its own contextvars) | once changed (process_state.py) |
| the root logger (handlers, level), logging.disable | its own: basicConfig works | once configured: its level, and its handlers that write to stdout, stderr or a file, with their formatters (process_state's `logging` component) |
| warnings filters, showwarning | its own, the interpreter's defaults at first | the filters, once changed (`warnings`) |
| sys.stdout, sys.stderr, sys.stdin | the node's (its output to its client: programio.py), until it assigns its own (`contextlib.redirect_stdout`) | no: a stream it assigned stays on the node it was assigned on |

Switching is a few dozen attribute assignments: the kernel does it at every switch (every
hop, every park, every 10 ms slice of a program that computes), so nothing here walks a
large structure - the environment is reverted key by key for the keys a program changed,
the random generator is swapped by its bound methods, the logging root by its fields.

Discussion: the root logger is one object (every logger's parent chain ends there, and
loggers made by libraries are shared by name, as between threads), so what is swapped is
its state - handlers, level, filters - not the object; the levels loggers cached are cleared
when the level a program's root has differs from the one before. Named loggers' own levels
and handlers are shared by the programs of one node, as by the threads of one process.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import warnings

from swarm.continuation import process_state

_state: dict = {}  # the node's own state, taken by install()
#: the working directory the process has now (a chdir is a syscall), and the program whose
#: state it has (None: the node's own)
_now: dict = {"cwd": None, "program": None, "moved": False}  # moved: a chdir since a look
_RANDOM_NAMES: tuple = ()  # random's module functions that are methods of its generator
_chdir = os.chdir  # (the process's own: a program's chdir is noted, the node's need not be)
_LAZY_RANDOM: dict = {}  # name -> FirstDraw: in `random` while a program has no generator yet


class Environ(os._Environ):
    """os.environ on a node: a program's changes are noted in its process state, so that
    they are reverted when it is switched out, and carried when it hops."""

    kernel = None

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        prog = self.kernel.current_context() if self.kernel is not None else None
        if prog is not None:
            prog.process.env[key] = value

    def __delitem__(self, key) -> None:
        super().__delitem__(key)
        prog = self.kernel.current_context() if self.kernel is not None else None
        if prog is not None:
            prog.process.env[key] = None


def install(kernel) -> None:
    """Take the node's own state (what each program starts from, and what the node has
    between programs); make os.environ note programs' changes; have continuations carry a
    program's logging and warnings setup. Once, when the node starts."""
    global _RANDOM_NAMES
    process_state.COMPONENTS.setdefault("logging", (_logging_get, _logging_set, lambda v: v))
    process_state.COMPONENTS.setdefault("warnings", (_warnings_get, _warnings_set,
                                                     lambda v: v))
    process_state.COMPONENTS["random"] = (_random_get, _random_set, lambda v: v)
    # Discussion: the program's directory was read (os.getcwd) as it left and as it hopped,
    # 10-30 us a hop; it changes only by a chdir, which now says so (a chdir made in C, by
    # an extension calling chdir(2) itself, is not seen: the program keeps the one before)
    for name in ("chdir", "fchdir"):
        call = getattr(os, name)
        if not isinstance(call, _NotingChdir):
            setattr(os, name, _NotingChdir(call))
            if call in os.supports_fd:  # (os.chdir takes a descriptor too)
                os.supports_fd.add(getattr(os, name))
    old = os.environ
    env = Environ(old._data, old.encodekey, old.decodekey, old.encodevalue, old.decodevalue)
    env.kernel = kernel
    os.environ = env  # noqa: B003 (the same mapping, noting what programs change)
    inst = random._inst
    _RANDOM_NAMES = tuple(name for name, value in vars(random).items()
                          if getattr(value, "__self__", None) is inst)
    _LAZY_RANDOM.update((name, FirstDraw(name)) for name in _RANDOM_NAMES)
    root = logging.root
    _state.update(
        argv=sys.argv, environ=dict(os.environ), path=list(sys.path), cwd=os.getcwd(),
        main=sys.modules.get("__main__"), random=_random_methods(inst),
        filters=warnings.filters, default_filters=list(warnings.filters),
        showwarning=warnings.showwarning, showwarnmsg=warnings._showwarnmsg_impl,
        log=(root.handlers, root.level, root.filters, root.disabled,
             root.manager.disable))
    _now["cwd"] = _state["cwd"]


class _NotingChdir:
    """os.chdir (os.fchdir) on a node: notes that the directory changed (sync reads it)."""

    __slots__ = ("call",)

    def __init__(self, call) -> None:
        self.call = call

    def __call__(self, *args, **kwargs) -> None:
        _now["moved"] = True
        self.call(*args, **kwargs)

    def __reduce__(self):
        return (_os_function, (self.call.__name__,))


def _os_function(name: str):
    return getattr(os, name)


def _random_methods(inst) -> dict:
    return {name: getattr(inst, name) for name in _RANDOM_NAMES}


class FirstDraw:
    """random's module function `name` while the program running has no generator of its
    own yet: the first call makes it one (seeded as in a fresh interpreter) and puts its
    methods in `random`; later calls (of one a program imported by name: `from random
    import randint`) go to the generator of the program running then.

    Discussion: a generator of its own for every program that arrives cost a hop 25-40 us
    (random.Random() seeds itself from 2.5 KB of os.urandom, and its state was read twice
    a hop to see whether the program drew from it); most programs never draw."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args, **kwargs):
        p = _now["program"]
        if p is None:  # (no program's state in: the node's own generator)
            return getattr(random._inst, self.name)(*args, **kwargs)
        return _own_random(p)[self.name](*args, **kwargs)

    def __reduce__(self):
        return (_first_draw, (self.name,))


def _first_draw(name: str):
    return _LAZY_RANDOM.get(name) or getattr(random, name)


def _own_random(p: ProgramProcess) -> dict:
    """The program's own generator's methods, made at its first draw (and put in `random`
    while it is the program running)."""
    if p.random is None:
        p.random = _random_methods(random.Random())
        if _now["program"] is p:
            vars(random).update(p.random)
    return p.random


def _random_get():
    """(process_state's `random` component on a node) The program's generator's state;
    None if it has none yet: it never drew, nothing to carry."""
    p = _now["program"]
    if p is None:
        return random._inst.getstate()
    return None if p.random is None else p.random["getstate"]()


def _random_set(value) -> None:
    p = _now["program"]
    if p is None:
        random._inst.setstate(value)
    else:
        _own_random(p)["setstate"](value)


class ProgramProcess:
    """One program's process state on this node (see the module's table)."""

    __slots__ = ("argv", "env", "cwd", "cwd_missing", "path", "main", "random", "ps",
                 "filters", "showwarning", "showwarnmsg", "log", "streams")

    def __init__(self, argv: list[str], cwd: str = "", environ: dict | None = None,
                 path_head=(), path_tail=()) -> None:
        self.argv = argv
        self.env: dict[str, str | None] = dict(environ or {})
        self.cwd = cwd or _state.get("cwd") or os.getcwd()
        self.cwd_missing = False
        base = _state.get("path", sys.path)
        self.path = [*path_head, *base, *path_tail]
        self.main = None
        self.random: dict | None = None  # its generator's methods, once it draws (FirstDraw)
        self.ps = ({}, frozenset(), set())  # process_state's _baseline, _arrived, warned
        self.filters = list(_state.get("default_filters", warnings.filters))
        self.showwarning = _state.get("showwarning", warnings.showwarning)
        self.showwarnmsg = _state.get("showwarnmsg", warnings._showwarnmsg_impl)
        self.log = ([], logging.WARNING, [], False, logging.NOTSET)
        self.streams = None  # (stdout, stderr, stdin) it assigned; None: the node's

    def meta(self) -> dict:
        """What travels with the program: its changes to the node's state."""
        base = _state.get("path", ())
        known = set(base)
        head, tail, seen_base = [], [], False
        for entry in self.path:
            if entry in known:
                seen_base = True
            elif isinstance(entry, str):
                (tail if seen_base else head).append(entry)
        out = {"cwd": self.cwd}
        if self.env:
            out["environ"] = dict(self.env)
        if head:
            out["path_head"] = head
        if tail:
            out["path_tail"] = tail
        return out


def enter(p: ProgramProcess, note) -> None:
    """Make the process the program's. `note(text)`: tell the program something on its
    stderr (a directory this node does not have)."""
    sys.argv = p.argv
    if p.env:
        _apply_env(p.env)
    if p.cwd != _now["cwd"]:
        try:
            _chdir(p.cwd)
            _now["cwd"] = p.cwd
        except OSError as e:
            if not p.cwd_missing:
                p.cwd_missing = True
                note(f"[swarm] the program's directory {p.cwd} cannot be entered on this "
                     f"node ({e.strerror}): relative paths resolve against {_state['cwd']} "
                     f"here\n")
            if _now["cwd"] != _state["cwd"]:
                _chdir(_state["cwd"])
                _now["cwd"] = _state["cwd"]
    sys.path = p.path
    if p.main is not None:
        sys.modules["__main__"] = p.main
    _now["program"] = p
    vars(random).update(p.random or _LAZY_RANDOM)
    process_state._baseline, process_state._arrived, process_state.warned = p.ps
    _swap_warnings(p.filters, p.showwarning, p.showwarnmsg)
    _swap_log(p.log)
    if "streams" not in _state:  # the node's dispatchers (programio.py), installed by now
        _state["streams"] = (sys.stdout, sys.stderr, sys.stdin)
    if p.streams is not None:
        sys.stdout, sys.stderr, sys.stdin = p.streams


def sync(p: ProgramProcess) -> None:
    """Note the program's directory and sys.path as they are now (it runs)."""
    if not p.cwd_missing and _now["moved"]:
        _now["moved"] = False
        try:
            cwd = os.getcwd()
        except OSError:  # the program removed its own directory
            cwd = p.cwd
        p.cwd = _now["cwd"] = cwd
    p.path = sys.path


def leave(p: ProgramProcess) -> None:
    """Keep what the program changed; give the process back its node's state."""
    sys.argv = _state["argv"]
    if p.env:
        _revert_env(p.env)
    sync(p)
    sys.path = _state["path"]
    main = sys.modules.get("__main__")
    if p.main is not None or main is not _state["main"]:
        p.main = main
        sys.modules["__main__"] = _state["main"]
    p.ps = (process_state._baseline, process_state._arrived, process_state.warned)
    process_state._baseline, process_state._arrived, process_state.warned = {}, frozenset(), set()
    vars(random).update(_state["random"])
    _now["program"] = None
    p.filters, p.showwarning, p.showwarnmsg = (warnings.filters, warnings.showwarning,
                                               warnings._showwarnmsg_impl)
    _swap_warnings(_state["filters"], _state["showwarning"], _state["showwarnmsg"])
    root = logging.root
    p.log = (root.handlers, root.level, root.filters, root.disabled, root.manager.disable)
    _swap_log(_state["log"])
    # Discussion: a program that redirects its output (contextlib.redirect_stdout, a
    # sys.stdout = ... of its own) redirects its own: switched out inside the `with`, the
    # node's streams come back, so the other programs' output never lands in its buffer
    node = _state.get("streams")
    if node is not None:
        now = (sys.stdout, sys.stderr, sys.stdin)
        mine = any(a is not b for a, b in zip(now, node, strict=True))
        p.streams = now if mine else None
        if mine:
            sys.stdout, sys.stderr, sys.stdin = node


def _apply_env(changes: dict) -> None:
    for key, value in changes.items():
        if value is None:
            if key in os.environ:
                os._Environ.__delitem__(os.environ, key)
        else:
            os._Environ.__setitem__(os.environ, key, value)


def _revert_env(changes: dict) -> None:
    base = _state["environ"]
    for key in changes:
        value = base.get(key)
        if value is None:
            if key in os.environ:
                os._Environ.__delitem__(os.environ, key)
        else:
            os._Environ.__setitem__(os.environ, key, value)


def _swap_warnings(filters: list, showwarning, showwarnmsg) -> None:
    if warnings.filters is not filters:
        changed = warnings.filters != filters
        warnings.filters = filters
        if changed:
            warnings._filters_mutated()  # (the C module caches what the filters decide)
    warnings.showwarning = showwarning
    warnings._showwarnmsg_impl = showwarnmsg


def _swap_log(log: tuple) -> None:
    root = logging.root
    handlers, level, filters, disabled, disable = log
    relevel = root.level != level or root.manager.disable != disable
    root.handlers, root.level, root.filters, root.disabled = handlers, level, filters, disabled
    if relevel:
        root.manager.disable = disable
        root.manager._clear_cache()


# ---- what travels of logging and warnings (process_state components) --------------------------

def _logging_get():
    """The program's root logger as plain data: (level, disable, handlers), each handler
    (kind, where, level, fmt, datefmt, style) - a stream (stdout, stderr) or a file. Other
    handlers (sockets, queues...) are the program's own objects on this node only."""
    root = logging.root
    handlers = []
    for h in root.handlers:
        if isinstance(h, logging.FileHandler):
            where = ("file", h.baseFilename, h.encoding)
        elif type(h) is logging.StreamHandler and getattr(h.stream, "stream", None) in (
                "out", "err"):
            where = ("stream", h.stream.stream, None)
        else:
            continue
        f = h.formatter
        style = next((k for k, (cls, _) in logging._STYLES.items()
                      if f is not None and type(f._style) is cls), "%")
        handlers.append((*where, h.level, f._fmt if f else None, f.datefmt if f else None,
                         style))
    return (root.level, root.manager.disable, tuple(handlers))


def _logging_set(value) -> None:
    level, disable, handlers = value
    made = []
    for kind, where, encoding, hlevel, fmt, datefmt, style in handlers:
        if kind == "file":
            h = logging.FileHandler(where, "a", encoding=encoding)
        else:
            h = logging.StreamHandler(sys.stderr if where == "err" else sys.stdout)
        h.setLevel(hlevel)
        if fmt is not None or datefmt is not None:
            h.setFormatter(logging.Formatter(fmt, datefmt, style))
        made.append(h)
    root = logging.root
    root.handlers[:] = made
    root.level, root.manager.disable = level, disable
    root.manager._clear_cache()


def _warnings_get():
    return tuple(warnings.filters)


def _warnings_set(value) -> None:
    warnings.filters[:] = list(value)
    warnings._filters_mutated()
