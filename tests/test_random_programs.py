"""Differential testing: random programs (tests/progen.py) must behave identically when run
natively and when captured, pickled and resumed at every suspension point."""

import os
import tempfile

from hypothesis import HealthCheck, given, settings

from swarm.driver import run_migrating, run_native

LONG = os.environ.get("SWARM_LONG") == "1"  # (make faults: 500 programs)

try:
    from progen import EXCS, UNCAUGHT_MARKER, programs
except ModuleNotFoundError:  # imported as a package module (rootdir on sys.path)
    from tests.progen import EXCS, UNCAUGHT_MARKER, programs

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


def run_both(src, subprocess=False):
    with tempfile.TemporaryDirectory(prefix="swarm-randprog-") as tmp:
        path = os.path.join(tmp, "prog.py")
        with open(path, "w") as f:
            f.write(src)
        native = run_native(path)
        migrated = run_migrating(path, subprocess=subprocess)
    return native, migrated


def check(src, native, migrated):
    # The generator promises valid programs: only deliberate exceptions, and only when allowed.
    if native.error is not None:
        assert UNCAUGHT_MARKER in src and native.error.split(":")[0] in EXCS, (
            f"generator bug: invalid program\n{src}\nnative error: {native.error}")
    else:
        assert native.result is not None, f"generator bug: no RESULT\n{src}"
    # Every program executes one unconditional top-level checkpoint() before anything can fail.
    assert migrated.suspensions > 0, f"no suspension happened\n{src}"
    assert (migrated.stdout, migrated.error, migrated.result) == (
        native.stdout, native.error, native.result), f"native and migrated runs differ\n{src}"


@settings(max_examples=500 if LONG else 250, deadline=None, suppress_health_check=SLOW)
# Compiling dominates the cost of a run, so programs are kept a bit smaller than the defaults.
@given(programs(max_funcs=3, max_main_stmts=7))
def test_random_program_in_process(src):
    native, migrated = run_both(src)
    check(src, native, migrated)


@settings(max_examples=20, deadline=None, suppress_health_check=SLOW)
@given(programs(max_checkpoints=4, max_funcs=3))
def test_random_program_subprocess(src):
    native, migrated = run_both(src, subprocess=True)
    check(src, native, migrated)
