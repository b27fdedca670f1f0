"""Per-program process state: what a program changed of the process it runs in.

A program that moves to another process must find there what it changed here, or it
silently computes something else: the `random` module's global generator (a seeded
simulation draws other numbers) and the `decimal` context of its thread (precision,
rounding, traps, flags). Its continuation carries them (`Continuation.state`), and resuming
restores them. Also carried: which fallback reasons the program was already told about
(fallback.py), so a warning is printed once per program, not once per node; and the
program's own compiled modules in `sys.modules` (a module imported in a function and no
longer referenced still counts as imported: without it, the next `import` ran its top level
again in the new process).

API (for drivers and for a node's kernel, which switches programs in one process):

    save() -> dict            the program's state: each component it changed since the last
                              restore(), or that it arrived with ({} when it changed nothing)
    restore(state | None)     make `state` the process's (None or {}: nothing to restore) and
                              remember what the components are now, so save() knows what changes

A component is carried only once the program changed it (or arrived with it): a program that
never draws a random number does not carry the generator's 2.5 KB on every hop. Discussion:
the `str` hash seed cannot be carried - it is fixed when the interpreter starts. Every
process of a cluster must be started with the same PYTHONHASHSEED, or set iteration order and
hash() differ after a hop (the driver's workers get the driver's; nodes get the cluster's).
"""

from __future__ import annotations

import sys

_MISSING = object()
#: the names of the compiled modules made in this process (swarm.compiler.registry adds each):
#: save() looks up these in sys.modules rather than scanning all of it. Discussion: the scan
#: (400-odd entries in a node) cost 60-380 us on every hop, more than the hop's encoding;
#: the names are a handful however many programs (and module instances) a node holds.
names: set = set()
_baseline: dict = {}
_arrived: frozenset = frozenset()
warned: set = set()  # the fallback reasons this program was told about (fallback.py)
#: the compiled modules a continuation put in sys.modules (restore below, and
#: rebuilders.fill_module) since the running program last took them: a node's program
#: swaps them in and out with itself (node/program.py), never leaving one to the next
brought: set = set()


def _random_get():
    module = sys.modules.get("random")
    return None if module is None else module.getstate()


def _random_set(value) -> None:
    import random

    random.setstate(value)


def _decimal_get():
    module = sys.modules.get("decimal")
    return None if module is None else module.getcontext().copy()


def _decimal_set(value) -> None:
    import decimal

    decimal.setcontext(value.copy())


def _decimal_key(ctx):
    return None if ctx is None else repr(ctx)


#: name -> (read it now, make it so, what compares equal when unchanged)
COMPONENTS = {
    "random": (_random_get, _random_set, lambda v: v),
    "decimal": (_decimal_get, _decimal_set, _decimal_key),
}


def _default_decimal_key():
    if "decimal" not in sys.modules:
        return None
    import decimal

    return repr(decimal.Context())


def save() -> dict:
    """The state the program carries to its next process."""
    out: dict = {}
    for name, (get, _, key) in COMPONENTS.items():
        value = get()
        if value is None:
            continue
        base = _baseline.get(name, _MISSING)
        if base is _MISSING and name == "decimal":
            base = _default_decimal_key()
        if name in _arrived or base is _MISSING or key(value) != base:
            out[name] = value
    if warned:
        out["warned"] = frozenset(warned)
    modules = {}
    for name in names:
        module = sys.modules.get(name)
        if name != "__main__" and module is not None and \
                getattr(module, "__dict__", {}).get("__swarm_compiled__"):
            modules[name] = module
    if modules:
        out["modules"] = modules
    return out


def restore(state: dict | None) -> None:
    """Make `state` (from save(), possibly in another process) the process's state."""
    global _arrived
    state = state or {}
    for name, (_, set_, _) in COMPONENTS.items():
        if name in state:
            set_(state[name])
    _arrived = frozenset(n for n in state if n in COMPONENTS)
    _baseline.clear()
    for name, (get, _, key) in COMPONENTS.items():
        value = get()
        if value is not None:
            _baseline[name] = key(value)
    warned.clear()
    warned.update(state.get("warned", ()))
    for name, module in state.get("modules", {}).items():
        sys.modules[name] = module
        brought.add(name)
