"""Run a program natively or with a migration at every suspension point (tests and demos).

    run_native(path)                      plain CPython: the reference behaviour
    run_migrating(path, subprocess=False) compiled; at every suspension point the program is
                                          captured, encoded to bytes, decoded and resumed.
                                          With subprocess=True every resume happens in another
                                          OS process than the capture: two worker processes
                                          take turns, so each hop crosses a process boundary.

Both return an `Outcome`: what the program printed, its result (the module global `RESULT`
when the script ends, or None), the uncaught exception as "TypeName: message" (or None), and
how many times it was suspended. Suspension points are calls of `swarm.checkpoint()`.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import random
import struct
import subprocess as sp
import sys
import types
from dataclasses import dataclass

from swarm import heap
from swarm.compiler import compile_source, registry
from swarm.compiler.hook import user_modules
from swarm.continuation import codec, fallback, process_state
from swarm.continuation.capture import Capture, check_root
from swarm.continuation.errors import NotMigratable
from swarm.continuation.generators import abandon
from swarm.continuation.primitives import set_policy
from swarm.continuation.resume import resume
from swarm.program_files import read_source


@dataclass
class Outcome:
    stdout: str
    result: object
    error: str | None
    suspensions: int = 0
    fallbacks: int = 0  # times the program went on where it was instead of migrating
    bytes_sent: int = 0  # the encoded continuations, all hops together


def _error_text(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def _read(path: str) -> str:
    return read_source(path)  # decoded as Python decodes a script (a coding line, else UTF-8)


@contextlib.contextmanager
def _script_dir_on_path(path: str, compile_modules: bool = False):
    d = os.path.dirname(os.path.abspath(path))
    before = set(sys.modules)
    sys.path.insert(0, d)
    hook = user_modules([d]) if compile_modules else contextlib.nullcontext()
    try:
        with hook:
            yield
    finally:
        sys.path.remove(d)
        for name in set(sys.modules) - before:  # forget the script's own modules
            mod = sys.modules.get(name)
            where = getattr(mod, "__file__", None) or next(iter(getattr(mod, "__path__", [])),
                                                           None)
            if where and os.path.abspath(where).startswith(d + os.sep):
                del sys.modules[name]


def run_native(path: str) -> Outcome:
    """Run the script with plain CPython (no compilation), capturing what it prints."""
    source = _read(path)
    main = types.ModuleType("__main__")
    main.__dict__.update({"__file__": path, "__builtins__": __builtins__})
    namespace = main.__dict__
    out = io.StringIO()
    error = None
    set_policy(None)
    with _script_dir_on_path(path), contextlib.redirect_stdout(out), \
            _restored_main(sys.modules.get("__main__")):
        _as_main(main)  # as when CPython runs a script: pickle finds its functions
        try:
            exec(compile(source, path, "exec", dont_inherit=True), namespace)
        except Exception as e:
            error = _error_text(e)
    return Outcome(out.getvalue(), namespace.get("RESULT"), error)


def _always(op) -> bool:
    return True


#: large values this process holds, by content hash (contentaddr.py): what it encoded or
#: received; and what the process that resumes next holds (set by the driver per hop)
_store: dict = {}
_peer_has: set = set()


def _step(run) -> tuple[str, bytes | None, object, str | None, object]:
    """Run until the program ends or suspends. Returns (stdout, encoded continuation or None,
    RESULT, error, module). A continuation that does not pickle is resumed right here
    instead (the fallback, told on stderr; an error under --strict). Large values the next
    process holds go by hash (contentaddr.py)."""
    out = io.StringIO()
    main = sys.modules.get("__main__")
    with contextlib.redirect_stdout(out), _restored_main(main):
        while True:
            try:
                module = run()
            except Capture as c:
                cont = c.continuation()
                try:
                    check_root(c, cont)
                    parked: list = []
                    data = codec.encode(cont, parked, receiver_has=_peer_has.__contains__,
                                        keep=_store)
                except NotMigratable as e:
                    if getattr(e, "frames_lost", False):
                        return out.getvalue(), None, None, _error_text(e), None
                    try:
                        fallback.fall_back(str(e).removeprefix("cannot migrate "))
                    except NotMigratable as strict:
                        return out.getvalue(), None, None, _error_text(strict), None
                    if cont.generators:  # unwound generators are rebuilt from their records
                        try:
                            cont = codec.rebuilt_here(cont)
                        except Exception:
                            return out.getvalue(), None, None, _error_text(e), None
                    cont.state = process_state.save()  # with the reason it was just told
                    run = _resume_in_memory(cont)
                    continue
                abandon(parked)
                return out.getvalue(), data, None, None, None
            except Exception as e:
                return out.getvalue(), None, None, _error_text(e), None
            return out.getvalue(), None, module.__dict__.get("RESULT"), None, module


@contextlib.contextmanager
def _restored_main(main):
    """Discussion: while the program runs, its own module is `__main__` in sys.modules, as
    when CPython runs a script: pickle finds its functions by name (a multiprocessing
    Pool sends `__main__.f` to its children, which inherit sys.modules by fork)."""
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _as_main(module) -> None:
    sys.modules["__main__"] = module


def _resume_in_memory(cont):
    def run():
        module = cont.frames[0].module
        resume(cont)
        return module

    return run


def _start(path: str):
    if path.endswith(".sw"):
        import swarm.skywriting  # noqa: F401 - registers the `.sw` translator
    compiled = compile_source(_read(path), os.path.abspath(path), "__main__")
    module = registry.new_module_instance("__main__", compiled.source_hash)

    def run():
        process_state.restore(None)
        _as_main(module)
        exec(compiled.code, module.__dict__)
        return module

    return compiled, run


def _resume_bytes(data: bytes):
    def run():
        cont = codec.decode(data, keep=_store)
        module = cont.frames[0].module
        _as_main(module)
        resume(cont)
        return module

    return run


def run_migrating(path: str, subprocess: bool = False, strict: bool = False) -> Outcome:
    """Run the compiled script, capturing + encoding + decoding + resuming it at every
    suspension point (in another OS process for each resume if `subprocess`). Where the
    program cannot migrate it goes on in place (told once on stderr, counted in
    `fallbacks`); `strict` makes that a NotMigratable error."""
    set_policy(_always)
    fallback.set_strict(lambda: strict)
    before = fallback.counts["fallbacks"]
    stdout: list[str] = []
    hops = 0
    extra_fallbacks = 0
    sent = 0
    _store.clear()
    _peer_has.clear()
    try:
        with _script_dir_on_path(path, compile_modules=True):
            workers = _Workers(path, strict) if subprocess else None
            try:
                if workers is not None:
                    text, data, result, error = workers.start()
                else:
                    _, run = _start(path)
                    _peer_has.update(_store)  # in-process: the "next process" is this one
                    text, data, result, error, _ = _step(run)
                stdout.append(text)
                while data is not None:
                    hops += 1
                    sent += len(data)
                    if workers is not None:
                        text, data, result, error = workers.resume(data)
                    else:
                        _peer_has.update(_store)
                        text, data, result, error, _ = _step(_resume_bytes(data))
                    stdout.append(text)
            finally:
                if workers is not None:
                    extra_fallbacks = workers.fallbacks
                    workers.close()
    except NotMigratable as e:
        return Outcome("".join(stdout), None, _error_text(e), hops)
    finally:
        set_policy(None)
        fallback.set_strict(lambda: False)
    fallbacks = fallback.counts["fallbacks"] - before + extra_fallbacks
    return Outcome("".join(stdout), result, error, hops, fallbacks, sent)


# --- cross-process resumes ------------------------------------------------------------------

def _send(stream, obj) -> None:
    data = pickle.dumps(obj)
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def _recv(stream):
    head = stream.read(4)
    if len(head) < 4:
        raise EOFError("worker closed its pipe")
    (n,) = struct.unpack(">I", head)
    return pickle.loads(stream.read(n))


class _Workers:
    """Two worker processes taking turns, so every resume runs in another process than the
    capture before it; the program starts in one of them too. Modules' sources are handed
    over by hash, as a node would fetch them, and a module a worker compiled first (imported
    after a migration) is handed to the other.

    Discussion: both workers run with one str hash seed (PYTHONHASHSEED: the driver's own if
    it was set, else one drawn here), so sets iterate and hash() answers alike on both sides
    of every hop - as every node of one cluster must."""

    def __init__(self, path: str, strict: bool) -> None:
        self.path = os.path.abspath(path)
        self.root = os.path.dirname(self.path)
        self.strict = strict
        self.sources = {h: (c.name, c.filename, c.source) for h, c in registry._by_hash.items()}
        self.fallbacks = 0
        self.holds: list[set] = [set(), set()]  # what each worker holds, by content hash
        env = _worker_env()
        self.procs = [sp.Popen([sys.executable, "-m", "swarm.driver", "--worker"],
                               stdin=sp.PIPE, stdout=sp.PIPE, env=env)
                      for _ in range(2)]
        self.turn = 0

    def _ask(self, what, data):
        me, other = self.turn, self.turn ^ 1
        proc = self.procs[me]
        self.turn = other
        _send(proc.stdin, (what, self.root, self.sources, self.strict, data,
                           self.holds[other]))
        text, data, result, error, compiled, fallbacks, holds = _recv(proc.stdout)
        self.sources.update(compiled)
        self.fallbacks += fallbacks
        self.holds[me] = holds
        if data is not None:  # the other one keeps what travels inside
            self.holds[other] |= codec.carried_hashes(data)
        return text, data, result, error

    def start(self):
        return self._ask("start", self.path)

    def resume(self, data: bytes):
        return self._ask("resume", data)

    def close(self) -> None:
        for p in self.procs:
            with contextlib.suppress(Exception):
                p.stdin.close()
            p.wait(timeout=10)


def _worker_env() -> dict:
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    if not env.get("PYTHONHASHSEED") or env["PYTHONHASHSEED"] == "random":
        env["PYTHONHASHSEED"] = str(random.SystemRandom().randrange(1, 2**32 - 1))
    return env


def _worker_main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = io.StringIO()  # nothing but the protocol may reach the pipe
    sources: dict = {}
    registry.source_provider = lambda name, digest: sources[digest][1:]
    set_policy(_always)
    heap.freeze_startup()  # as a node does: the runtime out of the programs' collections
    while True:
        try:
            what, root, new_sources, strict, data, peer_has = _recv(stdin)
        except EOFError:
            return
        _peer_has.clear()
        _peer_has.update(peer_has)
        sources.update(new_sources)
        fallback.set_strict(lambda strict=strict: strict)
        before = fallback.counts["fallbacks"]
        if root not in sys.path:
            sys.path.insert(0, root)
        try:
            with user_modules([root]):
                run = _start(data)[1] if what == "start" else _resume_bytes(data)
                text, data, result, error, _ = _step(run)
        except NotMigratable as e:
            text, data, result, error = "", None, None, _error_text(e)
        except Exception as e:  # a CompileError, or a bug of ours: told, not a dead pipe
            text, data, result, error = "", None, None, _error_text(e)
        try:
            pickle.dumps(result)
        except Exception:
            result = repr(result)  # the driver compares results; this one cannot travel
        compiled = {h: (c.name, c.filename, c.source) for h, c in registry._by_hash.items()
                    if h not in sources}
        sources.update(compiled)
        _send(stdout, (text, data, result, error, compiled,
                       fallback.counts["fallbacks"] - before, set(_store)))


if __name__ == "__main__" and "--worker" in sys.argv:
    _worker_main()
