"""The kernel: the greenlet hub, the node's loop, and the only code that switches greenlets.

One greenlet per running program (and per service answering a peer). The loop runs in the hub
greenlet, in phases:

    1. poll    wait for messages (or a thread's wake-up) as long as nothing is ready or due,
               and hand every message to the shell (which turns it into an event)
    2. threads wake the programs whose thread work (run_in_thread) has finished
    3. run     run every ready greenlet until it finishes or parks
    4. tick    the shell's timers: writes, acks, resends, timeouts that are due

Everything else asks through the traps of this class:

    spawn(fn, *args)       start fn in a new greenlet (it runs in the next round)
    wait(key)              from inside a program: park until wake(key, value); returns value
    wake(key, value)       make the greenlet parked on `key` ready again
    wait_after(key, fn)    park on `key` after calling fn (which may wake it at once)
    wait_on(waiters)       park until a callback added to the list `waiters` is called
    run_in_thread(fn, ...) park until fn has run in a thread of its own

A greenlet's context (the program it runs) is told when it is switched in and out
(`context.enter()` / `context.leave()`): a program swaps its own process state in - its
modules in sys.modules, its sys.argv - and out again.

Preemption. A program that computes for long - a loop that touches no Ref, a sleep - must not
make its node deaf (no acks, no hops, no answers) nor starve the other programs. A watchdog
thread notices a program that has run for longer than SLICE and sends the main thread a
signal; Python runs the handler between two bytecodes of the program, and the handler
switches to the hub, putting the program back on the ready queue: the loop polls, ticks and
runs the others, then the program goes on where it was. The program notices nothing.

Discussion: why a signal, and not a check the compiler puts at every loop back-edge: the
check would cost every loop of every program (the issue's overhead budget is 5%), and would
miss library code and C calls that call back into Python (sorted(key=...)); the signal costs
nothing until a program has run for SLICE. A program is not switched out while it runs the
node's own code, the import system or the stdlib's locking code (_preemptible) - the node's
state is never seen half-changed by another greenlet - and code that holds the GIL (a long
numpy call) runs to its end before the handler can. The residual risk: a program switched out
while it holds a lock of its own that another program on the node then waits for; locks
shared between programs of one node are not what programs do (each is a process of its
own, as far as it knows).

Mechanism only: what a program does when it is captured, where it goes, whether to fetch or
migrate - that is policy, in program.py, traps.py and the node's machine.
"""

from __future__ import annotations

import contextvars
import dis
import functools
import itertools
import logging
import mmap
import os
import signal
import sys
import threading
import time
from collections import deque

from greenlet import getcurrent, greenlet

log = logging.getLogger("swarm.kernel")

IDLE_CHECK = 0.05  # seconds between the watchdog's looks while no program runs
SLICE = 0.01  # seconds a program runs before the loop has a turn (preemption)
ABANDON_SECONDS = 1.0  # a cancelled program that goes on this long is stopped for good
SWEEP_SECONDS = 0.25  # how often the loop looks for cancelled programs parked that long
POOL_SIZE = 64  # greenlets kept for the next programs once theirs ended (spawn)
MARK_BYTES = 256  # the running program's id, in a file: see mark_running
PREEMPT_SIGNAL = signal.SIGUSR2
# a program running code of these modules (anywhere on its stack) is not switched out there
_NOT_PREEMPTIBLE = ("swarm.", "cluster.", "importlib", "threading", "queue", "logging",
                    "concurrent", "multiprocessing", "asyncio", "zmq", "greenlet", "sqlite3",
                    "msgpack", "dill", "pickle", "copyreg", "encodings", "codecs", "_weakrefset",
                    "weakref", "selectors", "subprocess")


# the continuation's modules that do the node's work on a program's greenlet - encode and
# decode it, unwind it, switch its process state - where a program frame (a __reduce__, a
# class's __subclasscheck__ in abc) may run above node code: never switched out there
_NODE_WORK = tuple(f"swarm.continuation.{m}" for m in (
    "codec", "contentaddr", "explain", "fallback", "library", "process_state", "rebuilders",
    "reductions", "unwind"))

_CALLS = frozenset(dis.opmap[op] for op in ("CALL", "CALL_FUNCTION_EX", "PRECALL"))


def _raise_at_next_line(frame, exc: BaseException) -> None:
    """Raise `exc` in `frame` when it starts its next line.

    Discussion: CPython 3.11 checks for signals after a loop's backward jump has been taken,
    and an exception raised there is looked up as if raised by the instruction before the
    loop's head - outside a `try` whose body starts with the loop (as compiled code's often
    does: `try: while True: ...`), so its `finally` and handlers would be skipped. Raised at
    the start of a line instead, it is where the program is. (Interrupted inside a call -
    time.sleep, a stat - the exception is raised at once: that call site is inside.)"""
    def tracer(f, event, arg):
        if f is frame and event in ("line", "return", "exception"):
            sys.settrace(None)
            frame.f_trace = None
            raise exc
        return tracer

    frame.f_trace = tracer
    frame.f_trace_lines = True
    sys.settrace(tracer)


def _preemptible(frame) -> bool:
    """Is the program at a place where another greenlet may run (see the module's doc)? Only
    if it runs its own code (or a library's) now: walking down from the frame running now,
    the program's frames come first, then the node's code its greenlet started in (the
    start of every program's stack); node code (or the import system, or locking code)
    above any program frame - the program called into its node, or the node runs on the
    program's greenlet (a commit, the machine) - says no, and so does a stack that is the
    node's alone (a greenlet serving a peer). Nor while the node encodes, decodes or
    unwinds it (_NODE_WORK), whatever runs above: preempted there, a cancel's interrupt was
    thrown into the encoding of its hop - the greenlet failed and the program never ended
    (its `finally` never ran, its client waited)."""
    seen_program = below_denied = False
    while frame is not None:
        name = frame.f_globals.get("__name__") or ""
        if name.startswith(_NODE_WORK):  # (the rest of swarm.continuation is the program's
            return False  # runtime: resume, primitives, generators, support)
        if (name.startswith(_NOT_PREEMPTIBLE) or name == "swarm") \
                and not name.startswith("swarm.continuation."):  # (the program's runtime)
            below_denied = True
        elif below_denied:  # the program's code called the node's (or the code above did)
            return False
        else:
            seen_program = True
        frame = frame.f_back
    return seen_program


class Kernel:
    def __init__(self) -> None:
        self.hub = getcurrent()
        self.ready: deque = deque()  # (greenlet, value to switch in with)
        self.parked: dict = {}  # key -> greenlet
        self.current: greenlet | None = None
        self.context: dict = {}  # greenlet -> the program it runs (set by the spawner)
        self._waiter_ids = itertools.count()
        self.running = True
        # threads: their work is done when a byte arrives on the pipe (poll sees it)
        self.wakeup_fd, self._wakeup_w = os.pipe()
        os.set_blocking(self.wakeup_fd, False)
        self._finished_threads: deque = deque()
        self.threads = 0  # thread work started and not seen ended yet (run_in_thread)
        self.switched_in = 0.0  # when the program running now was switched in (0: none)
        self.preemptions = 0
        self.throws: dict = {}  # greenlet -> (exception, since): cancelled, see cancel()
        self.zombies: list = []  # cancelled greenlets that would not end (never run again)
        self.pool: list = []  # greenlets whose work ended, for the next spawn (_work)
        self.on_abandon = None  # called with the context of each such greenlet
        self.on_unparked = None  # called with each key such a greenlet was parked on
        self._next_sweep = 0.0  # (abandon_overdue: not every round)
        self.switched_out = None  # called after each greenlet's turn (the shell's sends)
        self._mark: mmap.mmap | None = None

    def start_preemption(self) -> None:
        """Switch out programs that run longer than SLICE (from the main thread, once)."""
        signal.signal(PREEMPT_SIGNAL, self._preempt)
        main = threading.main_thread().ident
        threading.Thread(target=self._watch, args=(main,), name="swarm-watchdog",
                         daemon=True).start()

    def _watch(self, main: int) -> None:
        """The watchdog thread: signal the main thread while a program is over its slice
        (again every half slice, should the handler have found it in node code)."""
        idle = 0
        while True:
            # Discussion: waking every half slice costs a node that runs many short
            # programs (a hop each) a share of a core; after a few checks that found no
            # program running, the watchdog looks less often (a program that starts to spin
            # then is switched out after at most IDLE_CHECK, and every half slice from then)
            time.sleep(SLICE / 2 if idle < 4 else IDLE_CHECK)
            since = self.switched_in
            idle = 0 if since else idle + 1
            if since and time.monotonic() - since > SLICE:
                signal.pthread_kill(main, PREEMPT_SIGNAL)

    def _preempt(self, signum, frame) -> None:
        """The signal handler (the main thread, between two bytecodes of whatever runs)."""
        g = getcurrent()
        if g is self.hub or g is not self.current or not self.switched_in \
                or g not in self.context or not _preemptible(frame):
            return
        self.preemptions += 1
        self.ready.append((g, None))  # it goes on in the next round
        try:
            self.hub.switch()
        except KeyboardInterrupt as e:  # cancel(): raised where the program is
            if frame.f_lasti < 0 or frame.f_code.co_code[frame.f_lasti] not in _CALLS:
                _raise_at_next_line(frame, e)
                return
            raise

    # ---- traps -----------------------------------------------------------------------------------
    def spawn(self, fn, *args, context=None) -> greenlet:
        """A greenlet that runs fn(*args) in the next round (one of `pool`, or a new one).

        Discussion: a program arriving on a node ran in a greenlet of its own, made for it:
        about 19 us, CPython giving each new greenlet a fresh frame stack (an mmap and a
        munmap a hop), against 2 us to switch into one kept. So a greenlet whose work ended
        waits in `pool` for the next (_work); it runs each work in a new, empty
        contextvars.Context, as a new greenlet would (nothing of the program before it). A
        work that raises ends its greenlet, as before (run_ready logs it)."""
        if self.pool:
            g = self.pool.pop()
            g.gr_context = contextvars.Context()
        else:
            g = greenlet(self._work, parent=self.hub)
        g.work, g.ended = (fn, args), False
        if context is not None:
            self.context[g] = context
        self.ready.append((g, None))
        return g

    def _work(self) -> None:
        """A spawned greenlet's body: its work, then - back in `pool` - the next one's."""
        me, hub = getcurrent(), self.hub
        while True:
            work, me.work = me.work, None
            if work is not None:  # (None: switched in with no work - never, but harmless)
                fn, args = work
                del work
                fn(*args)
                del fn, args  # (nothing of the program stays with the greenlet)
                me.ended = True
            hub.switch()

    def wait(self, key):
        """Trap: park the current program greenlet until wake(key, value)."""
        me = getcurrent()
        if me is self.hub:
            raise RuntimeError("the hub cannot wait")
        self.parked[key] = me
        return self.hub.switch()

    def wait_after(self, key, fn, *args):
        """Trap: park the current program on `key`, after calling fn(*args) - which may wake
        `key` at once (an answer already known): the program then goes on in the next round,
        with that value."""
        me = getcurrent()
        if me is self.hub:
            raise RuntimeError("the hub cannot wait")
        self.parked[key] = me
        try:
            fn(*args)
        except BaseException:
            self.parked.pop(key, None)
            raise
        return self.hub.switch()

    def wait_on(self, waiters: list):
        """Trap: park the current program until the callback it adds to `waiters` is called
        (whoever owns the list calls them all when what they wait for has happened)."""
        key = ("waiter", next(self._waiter_ids))
        waiters.append(functools.partial(self.wake, key))
        return self.wait(key)

    def wake(self, key, value=None) -> bool:
        g = self.parked.pop(key, None)
        if g is None:
            return False
        self.ready.append((g, value))
        return True

    def run_in_thread(self, fn, *args, **kwargs):
        """Trap: run fn(*args, **kwargs) in a thread of its own and park until it returns
        (its value) or raises (the same exception), while the node serves everything else.
        For blocking work that runs no program code - a subprocess, a file read - since a
        program's modules are swapped in and out of sys.modules as greenlets switch."""
        key = ("thread", next(self._waiter_ids))
        box: dict = {}

        def work() -> None:
            try:
                box["value"] = fn(*args, **kwargs)
            except BaseException as e:  # handed to the program, which raises it
                box["error"] = e
            self._finished_threads.append(key)
            os.write(self._wakeup_w, b"!")

        # Discussion: counted until the hub sees the work end (wake_threads), not until
        # this greenlet goes on: a cancelled program dropped while it waits (run_ready,
        # _abandon) never goes on, and its thread was counted for ever - the node's load
        # (least_loaded, status `threads`) stayed one too high after each.
        self.threads += 1
        threading.Thread(target=work, name=f"swarm-{key[1]}", daemon=True).start()
        self.wait(key)
        if "error" in box:
            raise box["error"]
        return box["value"]

    def cancel(self, matches) -> int:
        """Stop the programs whose context `matches`: KeyboardInterrupt is raised in each,
        once, where it is - a parked one is woken with it, a ready or switched-out one gets
        it at its next turn - as Ctrl-C stops a script (its `finally` blocks run); one that
        still runs ABANDON_SECONDS later (it caught it), or is parked again then
        (abandon_overdue), or never started, is dropped (on_abandon tells) - unless it is
        shielded: a program arriving takes it when it resumes (program.arriving). Returns
        how many."""
        now, n = time.monotonic(), 0
        for g, ctx in list(self.context.items()):
            if not matches(ctx) or g in self.throws:
                continue
            n += 1
            self.throws[g] = [KeyboardInterrupt("cancelled"), now]
            if getattr(ctx, "shielded", False):
                continue  # (it takes the interrupt when it asks: pending_interrupt)
            for key in [k for k, parked in self.parked.items() if parked is g]:
                del self.parked[key]
                self.ready.append((g, None))
        return n

    def pending_interrupt(self) -> BaseException | None:
        """From inside a program that was shielded (its context's `shielded`: an atomic
        block's commit, txnserve.py): the cancel's KeyboardInterrupt it did not get
        meanwhile, for it to raise now (it then has ABANDON_SECONDS to end), or None.

        Discussion: a shielded program is neither woken with the interrupt, nor thrown it
        at its next turn, nor dropped ABANDON_SECONDS later: what it does must not stop half
        done (the other nodes of its block have committed)."""
        thrown = self.throws.get(getcurrent())
        if thrown is None or thrown[0] is None:
            return None
        exc, thrown[0], thrown[1] = thrown[0], None, time.monotonic()
        return exc

    def interrupted_for(self) -> float | None:
        """Seconds since the current program was thrown its cancel's KeyboardInterrupt, or
        None (not cancelled, or not thrown yet): what its hop carries (program.ship)."""
        thrown = self.throws.get(getcurrent())
        if thrown is None or thrown[0] is not None:
            return None
        return time.monotonic() - thrown[1]

    def interrupted_before(self, g, seconds: float) -> None:
        """Greenlet g runs a program thrown its interrupt `seconds` ago on another node
        (interrupted_for there): it is not thrown one again, and is stopped as one thrown
        it here would be, ABANDON_SECONDS after it."""
        self.throws[g] = [None, time.monotonic() - seconds]

    def abandon_overdue(self) -> None:
        """Drop the cancelled programs that caught the interrupt and parked again (a
        `finally` that asks a node that does not answer) and still wait ABANDON_SECONDS
        after the cancel - as one that goes on running is (run_ready). One waiting for
        its thread's work is dropped when that ends (run_ready: its count of threads)."""
        now, waiting = time.monotonic(), None
        for g, (exc, since) in list(self.throws.items()):
            if exc is not None or now - since <= ABANDON_SECONDS or \
                    getattr(self.context.get(g), "shielded", False):
                continue
            if waiting is None:
                waiting = {}
                for key, parked in self.parked.items():
                    waiting.setdefault(parked, []).append(key)
            keys = waiting.get(g)
            if keys and not any(isinstance(k, tuple) and k[0] == "thread" for k in keys):
                self._abandon(g)

    def _abandon(self, g) -> None:
        self.throws.pop(g, None)
        self.zombies.append(g)  # (a reference kept: freed, it would run its code again)
        for key in [k for k, parked in self.parked.items() if parked is g]:
            del self.parked[key]  # (nothing wakes it any more)
            if self.on_unparked is not None:
                self.on_unparked(key)
        ctx = self.context.pop(g, None)
        self.ready = deque(item for item in self.ready if item[0] is not g)
        if ctx is not None and self.on_abandon is not None:
            self.on_abandon(ctx)

    def mark_running(self, path: str) -> str | None:
        """Keep the id of the program running now at the start of the file `path`; returns
        the id found there from before - the program this node was running when it died
        (quarantine), None after a clean stop."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < MARK_BYTES:
                os.ftruncate(fd, MARK_BYTES)
            self._mark = mmap.mmap(fd, MARK_BYTES)
        finally:
            os.close(fd)
        found = bytes(self._mark).rstrip(b"\0").decode("utf-8", "replace") or None
        self._mark[:] = bytes(MARK_BYTES)
        return found

    # ---- the loop ----------------------------------------------------------------------------------
    def loop(self, poll, tick, idle_ms) -> None:
        """Run until `running` is False: poll(timeout ms) receives and handles messages,
        tick() runs the timers; idle_ms() says how long to wait when nothing is ready."""
        while self.running:
            poll(0 if self.ready else idle_ms())  # 1. poll
            if self._finished_threads:  # 2. threads
                self.wake_threads()
            self.run_ready()  # 3. run
            if self.throws and time.monotonic() >= self._next_sweep:
                self._next_sweep = time.monotonic() + SWEEP_SECONDS
                self.abandon_overdue()  # (cancelled programs that would not end)
            tick()  # 4. tick

    def wake_threads(self) -> None:
        try:
            os.read(self.wakeup_fd, 4096)
        except BlockingIOError:
            pass
        while self._finished_threads:
            self.threads -= 1  # (one ended: counted whether its program waits or not)
            self.wake(self._finished_threads.popleft())

    def run_ready(self) -> None:
        """Run each greenlet that is ready now until it finishes, parks or is switched out
        (one woken or switched out meanwhile runs in the next round, after a poll)."""
        clock, mark = time.monotonic, self._mark
        for _ in range(len(self.ready)):
            g, value = self.ready.popleft()
            thrown = self.throws.get(g)
            context = self.context.get(g)
            if thrown is not None and getattr(context, "shielded", False):
                thrown = None  # (until it asks: pending_interrupt)
            if thrown is not None and (clock() - thrown[1] > ABANDON_SECONDS
                                       or (g.work is not None and thrown[0] is not None)):
                # will not end; or never started, its interrupt to come (it has no handler
                # yet: nothing of it ran). One interrupted before it came (interrupted_before)
                # starts, and goes on as one interrupted here would.
                self._abandon(g)
                continue
            self.current = g
            if context is not None:
                context.enter()
                if mark is not None:
                    mark[:len(context.mark)] = context.mark
            self.switched_in = clock()
            try:
                if thrown is not None and thrown[0] is not None:
                    exc, thrown[0] = thrown[0], None  # (once)
                    g.throw(exc)
                else:
                    g.switch(value) if g else g.switch()
            except BaseException:  # a greenlet's exception reaches its parent, the hub
                log.exception("a program greenlet failed")
            finally:
                self.switched_in = 0.0
                if context is not None:
                    if mark is not None:
                        mark[:len(context.mark)] = bytes(len(context.mark))
                    context.leave()
                self.current = None
                if self.switched_out is not None:
                    self.switched_out()
                if g.dead or g.ended:
                    self.context.pop(g, None)
                    self.throws.pop(g, None)
                    if g.ended and len(self.pool) < POOL_SIZE:
                        self.pool.append(g)

    def runnable(self) -> int:
        """How many programs are here and not parked (running, ready or just spawned)."""
        return max(0, len(self.context) - len(self.parked))

    def current_context(self):
        return self.context.get(getcurrent())

    def close(self) -> None:
        if self._mark is not None:
            self._mark[:] = bytes(MARK_BYTES)  # a clean stop: no program to blame
            self._mark.close()
        if threading.current_thread() is threading.main_thread():
            signal.signal(PREEMPT_SIGNAL, signal.SIG_IGN)
        os.close(self.wakeup_fd)
        os.close(self._wakeup_w)
