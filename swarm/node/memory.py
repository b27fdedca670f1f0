"""Giving a node's memory back once the programs that used it have ended.

A program's module instances, its globals and every object it made form reference cycles (a
function's `__globals__` is its module's dict, which holds the function; a module's dict holds
the module as `__swarm_module__`). Python frees cycles only in a full collection, and starts one
by itself only after the number of container objects it tracks grew by a quarter - a program
whose 10 MB global is one list of ints adds one tracked object. So the garbage of ended
programs stayed: +47 MB of resident memory per run of such a program, for ever in practice.
And memory that C code (or a program that hit `MemoryError`) freed stays in the process's
heap unless it is handed back (glibc's `malloc_trim`).

`Reclaimer.program_ended()` is called by the kernel's switch-out of a program that ended or
left this node (swarm/node/program.py), `tick()` once a second by the node's timers. It
reads the node's resident size (one read of /proc/self/statm) and, once that has grown since
the last collection by 2 MB or 4% (whichever is more; at most every 0.25 s) or by 16 MB (at
once), runs a full collection and `malloc_trim(0)`. A node whose programs leave little
behind seldom pays for it; one whose programs leave 10 MB each collects after each of them.
A full collection of a node takes about 12 ms (26,000 objects), so the spacing bounds its
cost to a few percent of a node that does nothing but make garbage. The figures:
BENCHMARKS.md, "Node memory".

Discussion: measured by the resident size rather than by counting programs because what a
program leaves is not known beforehand - 1 KB or 1 GB - and a collection costs in proportion
to the objects alive (milliseconds on an ordinary node), so it is worth it only when there is
something to give back. The size a collection leaves becomes the new base, so live data that
grows (a larger value cache) is not collected for again and again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import mmap
import os
import time

GROWTH_MIN = 2 << 20  # bytes of growth since the last collection that start one...
GROWTH_SHARE = 0.04  # ... or this share of the size then, whichever is more...
SPACING = 0.25  # ... once this many seconds have passed since the last one...
GROWTH_AT_ONCE = 16 << 20  # ... or at once after this much
LOOK_SPACING = 0.05  # seconds between two reads of the RSS as programs end

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


_statm = {"pid": None, "fd": -1}  # /proc/self/statm kept open (per process: a fork opens it again)


def resident_bytes() -> int:
    """This process's resident set size (VmRSS), 0 where /proc is missing.

    Discussion: read with one pread of the file kept open - opening it each time (open,
    fstat, ioctl, lseek, read, close) cost 25-250 us, and it is read as programs leave, up
    to 20 times a second; the read alone costs 4 us."""
    try:
        if _statm["pid"] != os.getpid():
            _statm["fd"] = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
            _statm["pid"] = os.getpid()
        return int(os.pread(_statm["fd"], 256, 0).split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _malloc_trim():
    """glibc's malloc_trim, or None (another C library, or none found)."""
    try:
        name = ctypes.util.find_library("c")
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        return None
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


RESERVE_BYTES = 16 << 20  # address space held back for the node's own code (see Reclaimer)


class Reclaimer:
    """Collects and trims once the node has grown enough since the last time (see the
    module's docstring); holds the node's reserve of memory.

    Discussion: a program that fills the node's memory gets MemoryError - and the node must
    then end it (format its traceback, encode and write its result, send it) while the
    program's data is still alive: its globals are freed only once it has left. With the
    last few hundred KB gone, that failed in the node's own code (msgpack's 256 KB buffer:
    "Unable to allocate internal buffer"), the greenlet died, and the program never ended
    - its client waited for ever (tests/test_node_memory.py, 2 of 6 runs under load, and
    every run when the program fills memory in small pieces). The reserve is address space
    mapped and never touched (no resident memory): released when a program runs out, so the
    node's own allocations have room, and taken again at a tick once memory came back."""

    def __init__(self) -> None:
        self.reserve: mmap.mmap | None = None  # (a node maps it as it starts: shell.py)
        self.trim = _malloc_trim()
        self.base = resident_bytes()
        self.last = 0.0  # time.monotonic() of the last collection
        self.collections = 0
        self.retrim = False  # trim again at the next tick (see tick)
        self.looked = 0.0  # time.monotonic() of the last look at the RSS

    def hold_reserve(self) -> None:
        """Map the reserve if it is not (a failure - no memory yet - is tried again at the
        next tick)."""
        if self.reserve is None:
            try:
                self.reserve = mmap.mmap(-1, RESERVE_BYTES)
            except (OSError, MemoryError, ValueError):
                pass

    def release_reserve(self) -> None:
        """A program ran out of memory: give the reserve back for the node's own code."""
        if self.reserve is not None:
            self.reserve.close()
            self.reserve = None

    def program_ended(self) -> None:
        """A program ended or left this node: give memory back if it left a lot behind. (The
        RSS is read at most every LOOK_SPACING s: a program leaves a node at every hop, and
        reading /proc costs more than the rest of a hop's bookkeeping; tick() looks too.)"""
        clock = time.monotonic()
        if clock - self.looked < LOOK_SPACING:
            return
        self.looked = clock
        now = resident_bytes()
        if not now:
            return
        growth = now - self.base
        if growth >= GROWTH_AT_ONCE or (growth >= max(GROWTH_MIN, self.base * GROWTH_SHARE)
                                        and time.monotonic() - self.last >= SPACING):
            self.collect()

    def collect(self) -> None:
        """A full collection, then the freed heap handed back to the system."""
        gc.collect()
        if self.trim is not None:
            self.trim(0)
        self.collections += 1
        self.base = resident_bytes()
        self.last = time.monotonic()
        self.retrim = True

    def tick(self, idle: bool) -> None:
        """Once a second (the node's timers): after a collection, trim once more - what the
        program's last hop held (its continuation, until acknowledged and written) is freed
        only after it left; and when no program is on the node (`idle`), collect what the
        last ones left if it is enough.

        Discussion: the base goes down here, never up, and the idle collection waits for no
        program to be here: a program running now may hold large data of its own, and a base
        taken then would hide the garbage it leaves when it ends."""
        self.hold_reserve()
        if self.retrim:
            self.retrim = False
            if self.trim is not None:
                self.trim(0)
            now = resident_bytes()
            if now:
                self.base = min(self.base, now)
        elif idle:
            self.program_ended()


reclaimer = Reclaimer()
