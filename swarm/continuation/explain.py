"""Why a continuation does not pickle: the local or module global to blame, in words.

Called by the codec when pickling failed (with the C pickler, then with dill): each value is
tried alone, modules by name, so a function is not blamed for what another global of its
module holds.
"""

from __future__ import annotations

from swarm.continuation.capture import Continuation, describe_point
from swarm.continuation.errors import NotMigratable
from swarm.continuation.reductions import (
    MODULE_RUNTIME_KEYS,
    DillPickler,
    Refused,
    ShallowPickler,
    compiled_of,
    dump,
)

TEMPS = "__swarm_temps__"  # (swarm/compiler/hiding.py's TEMPS: the continuation package
# imports nothing of the compiler)


def explain(cont: Continuation, error: Exception, first: Exception | None = None):
    """Find which local (or module global) could not be pickled, and say so."""
    for fr in cont.frames:
        where = describe_point(fr.module, fr.point)
        compiled = compiled_of(fr.module)
        items = (fr.locals or {}).items() if fr.locals is not None else ()
        kind = "local variable"
        if fr.locals is None:
            items = [(k, v) for k, v in fr.module.__dict__.items()
                     if k not in MODULE_RUNTIME_KEYS]
            kind = "module global"
        for name, value in items:
            problem = probe(value, cont.generators)
            if problem is None:
                continue
            if name == TEMPS and isinstance(value, dict):  # the module's hidden temporaries
                # (swarm/compiler/hiding.py): the one to blame, as the compiler names it - a
                # `with` block's file, say - not the dict that holds them
                for temp, held in value.items():
                    held_problem = probe(held, cont.generators)
                    if held_problem is not None:
                        label = compiled.describe_name(temp) if compiled else repr(temp)
                        return NotMigratable(
                            f"cannot migrate at {where}: {label} holds {held_problem}")
            label = compiled.describe_name(name) if compiled else repr(name)
            return NotMigratable(f"cannot migrate at {where}: {kind} {label} holds {problem}")
    reason = first or error
    return NotMigratable(f"cannot migrate: the continuation does not pickle: {reason!r}")


def probe(value, generators) -> str | None:
    """Why `value` alone cannot be pickled (None if it can). Modules are pickled by name here,
    so a function is not blamed for what another global of its module holds."""
    try:
        dump(ShallowPickler, value, generators, {})
        return None
    except Refused as refused:
        return f"a {refused} (open files, locks and sockets cannot migrate)"
    except Exception:
        try:
            dump(DillPickler, value, generators, {})
            return None
        except Refused as refused:
            return f"a {refused} (open files, locks and sockets cannot migrate)"
        except Exception as e:
            return f"a {type(value).__qualname__} that cannot be pickled ({e})"
