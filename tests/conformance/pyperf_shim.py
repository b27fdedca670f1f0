"""A stand-in for pyperf, copied as `pyperf.py` beside each benchmark of the conformance suite.

The benchmark runs each function once, at the suite's small size, and prints what it
returned, so that a native run and a migrated run can be compared line by line. Nothing
here measures time: `perf_counter()` is a counter (a benchmark that returns elapsed time
returns the same numbers in both runs).

`_conformance_checkpoint()` is called at the entry of every function and loop body of the
benchmark (tests/conformance/instrument.py puts it there). It calls `swarm.checkpoint()` -
a migration under `swarm migrate -p` - for the first FIRST calls, then every STRIDE-th call,
at most CAP times: every hop costs a process switch, and a benchmark makes millions of calls.
The values are written into this file by the suite (see suite.py).
"""

import argparse
import hashlib
import re

from swarm import checkpoint

ARGV = []  # the benchmark's command line (its argparse options), set by the suite
FIRST = 100
STRIDE = 1000
CAP = 300

_calls = 0
_migrations = 0
_clock = 0


def _conformance_checkpoint():
    global _calls, _migrations
    _calls += 1
    if _migrations < CAP and (_calls <= FIRST or _calls % STRIDE == 0):
        _migrations += 1
        checkpoint()


def perf_counter():
    global _clock
    _clock += 1
    return float(_clock)


def python_implementation():
    return "cpython"


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _report(name, value):
    text = _ADDRESS.sub(" at 0x?", repr(value))
    if len(text) > 200:
        text = "sha256 " + hashlib.sha256(text.encode()).hexdigest()[:16]
    print(f"{name}: {text}")


class Runner:
    def __init__(self, *args, add_cmdline_args=None, **kwargs):
        self.metadata = {}
        self.argparser = argparse.ArgumentParser()
        self.args = None

    def parse_args(self, args=None):
        self.args = self.argparser.parse_args(ARGV)
        return self.args

    def _args(self):
        if self.args is None:
            self.parse_args()
        return self.args

    def bench_func(self, name, func, *args, inner_loops=None, metadata=None):
        self._args()
        _report(name, func(*args))

    def bench_time_func(self, name, func, *args, inner_loops=None, metadata=None):
        self._args()
        _report(name, func(1, *args))

    def bench_async_func(self, name, func, *args, inner_loops=None, metadata=None):
        import asyncio

        self._args()
        _report(name, asyncio.run(func(*args)))

    def bench_command(self, name, command):
        raise NotImplementedError("command benchmarks are not run by the conformance suite")
