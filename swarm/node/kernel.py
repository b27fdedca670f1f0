"""The kernel: the greenlet hub, and the only code that switches greenlets.

One greenlet per running program. The I/O shell (server.py) runs in the hub greenlet and calls
`run_ready()` after each round of socket events. Everything else asks through three traps:

    spawn(fn, *args)   start fn in a new greenlet (it runs at the next run_ready)
    wait(key)          from inside a program: park until wake(key, value); returns value
    wake(key, value)   make the greenlet parked on `key` ready again
    wait_on(waiters)   park until a callback added to the list `waiters` is called

A greenlet's context (the program it runs) is told when it is switched in and out
(`context.enter()` / `context.leave()`): the program swaps its own modules into sys.modules.

Mechanism only: what a program does when it is captured, where it goes, whether to fetch or
migrate - that is policy, in program.py and the node logic.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections import deque

from greenlet import getcurrent, greenlet

log = logging.getLogger("swarm.kernel")


class Kernel:
    def __init__(self) -> None:
        self.hub = getcurrent()
        self.ready: deque = deque()  # (greenlet, value to switch in with)
        self.parked: dict = {}  # key -> greenlet
        self.current: greenlet | None = None
        self.context: dict = {}  # greenlet -> the program it runs (set by the spawner)
        self._waiter_ids = itertools.count()

    def spawn(self, fn, *args, context=None) -> greenlet:
        g = greenlet(lambda: fn(*args), parent=self.hub)
        if context is not None:
            self.context[g] = context
        self.ready.append((g, None))
        return g

    def wait(self, key):
        """Trap: park the current program greenlet until wake(key, value)."""
        me = getcurrent()
        if me is self.hub:
            raise RuntimeError("the hub cannot wait")
        self.parked[key] = me
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

    def run_ready(self) -> None:
        """Run every ready greenlet until it finishes or parks."""
        while self.ready:
            g, value = self.ready.popleft()
            self.current = g
            context = self.context.get(g)
            if context is not None:
                context.enter()
            try:
                g.switch(value) if g else g.switch()
            except Exception:  # a greenlet's exception reaches its parent, the hub
                log.exception("a program greenlet failed")
            finally:
                if context is not None:
                    context.leave()
                self.current = None
                if g.dead:
                    self.context.pop(g, None)

    def runnable(self) -> int:
        """How many programs are here and not parked (running, ready or just spawned)."""
        return max(0, len(self.context) - len(self.parked))

    def current_context(self):
        return self.context.get(getcurrent())
