"""Resume: re-enter a captured program, outermost frame first.

Each frame record names a suspension point; the compiled module has a resumer function for it
that restores the frame's locals, re-enters the enclosing loops, `if`s and `try`s down to that
point, and there obtains the value of the suspended call by calling `resume_next` - which
resumes the next record inward, or finally performs the pending operation. After that the
resumer is ordinary compiled code running at full speed.
"""

from __future__ import annotations

from types import FunctionType, ModuleType

from swarm.continuation import process_state
from swarm.continuation.capture import TRAMPOLINES, Continuation, Frame


class Cursor:
    """The records still to resume, handed from one resumer to the next."""

    __slots__ = ("frames", "index", "op")

    def __init__(self, frames: list[Frame], op, index: int = 0) -> None:
        self.frames = frames
        self.op = op
        self.index = index

    def next(self):
        """(function, saved locals) that produce the suspended call's value.

        Discussion: a resumed call site calls the returned function itself, so resuming N
        frames takes N Python frames, as the original program did; a 900-deep recursion
        resumes under the default recursion limit."""
        if self.index < len(self.frames):
            fr = self.frames[self.index]
            self.index += 1
            fn = resumer_for(fr.module, fr.point)
            if fr.returns is not None:
                return _returning(fn, fr.returns), fr.locals
            return fn, fr.locals
        return _perform, None


def _perform(k: Cursor, _locals):
    return k.op.perform()


_perform.sw_performs = True  # a capture through it may come out of a GenNext's generator
TRAMPOLINES.add(_perform.__code__)


def _returning(fn, local_name: str):
    """An __init__ resumed for `Cls(...)`: its caller receives the instance, not None."""

    def resume_init(k, saved):
        instance = saved[local_name]  # read first: the resumer empties `saved`
        fn(k, saved)
        return instance

    resume_init.sw_returns = local_name  # a capture inside it must keep the marking
    return resume_init


TRAMPOLINES.add(_returning(None, "").__code__)


RESUMERS = "__swarm_resumers__"  # a module instance's global: its resumers made so far


def resumer_for(module: ModuleType, point: int) -> FunctionType:
    """The resumer of `point` bound to this module instance's globals (cached in them): its
    function's resumer code with `point` as the default of its last parameter, `_sw_p`.

    Discussion: the cache lives in the module's own globals, so it goes with the module.
    It was a WeakKeyDictionary keyed by the module, whose values - functions whose
    __globals__ hold `__swarm_module__`, the module itself - kept every key alive: each
    program resumed on a node stayed in memory with all its globals, for ever."""
    namespace = module.__dict__
    table = namespace.get(RESUMERS)
    if table is None:
        table = namespace[RESUMERS] = {}
    fn = table.get(point)
    if fn is None:
        code = namespace["__swarm_compiled__"].resumer_code(point)
        fn = table[point] = FunctionType(code, namespace, code.co_name, (point,))
    return fn


def resume_next(k: Cursor):
    """Resume the next record of `k` and return what the suspended call would have returned."""
    fn, saved = k.next()
    return fn(k, saved)


class Raise:
    """The pending operation of a program cancelled before it was resumed: instead of being
    performed, `exc` (KeyboardInterrupt) is raised where the program waits."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def perform(self):
        raise self.exc


def resume(cont: Continuation, interrupt: BaseException | None = None):
    """Run a continuation to its end (or to its next capture) and return the outermost
    frame's result. The process state it carries is restored first. `interrupt`: raised at
    the suspension point instead of performing the pending operation (a cancel that caught
    the program between two nodes: its `except` and `finally` blocks run, as a script's do
    on Ctrl-C).

    Discussion: the resumers re-enter the frames' `try` blocks down to the suspension
    point before the operation is performed, so an exception raised there unwinds through
    them as it would have on the node the program left. (A generator captured in the
    middle of a call is advanced by a GenNext: the interrupt is raised where the program
    advances it, not inside it.)"""
    process_state.restore(cont.state)
    op = cont.op if interrupt is None else Raise(interrupt)
    return resume_next(Cursor(cont.frames, op))
