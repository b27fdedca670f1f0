"""When a program cannot migrate: say so once, on the program's stderr, and go on here.

A suspension that cannot be captured (stackcheck.py) or a continuation that does not pickle
(codec.py) does not fail the program: it goes on where it is, and a Ref access fetches the
value instead of moving the program. Nobody would notice, so the first time each reason
happens in a program one line goes to the program's `sys.stderr` (on a node, routed to its
client) naming file:line, the value or call, and what to change:

    swarm: not migrating at prog.py:12 in main: the suspension was reached through C code
    ... (write the loop yourself); fetching instead

`--strict` (set_strict) makes it a NotMigratable error raised where the program is.
`counts` holds how often each happened in this process (the driver reports it).
"""

from __future__ import annotations

import sys
from typing import Callable

from swarm.continuation import loader, process_state
from swarm.continuation.errors import NotMigratable
from swarm.continuation.stackcheck import why_not_capturable

counts = {"fallbacks": 0}
_strict: Callable[[], bool] = lambda: False  # noqa: E731

def set_strict(predicate: Callable[[], bool]) -> None:
    """`predicate()` says whether the running program asked for strict migration."""
    global _strict
    _strict = predicate


def capturable(frame, strict: bool | None = None) -> bool:
    """Can the program be captured from `frame` (the primitive's caller)? If not, report it
    (or raise NotMigratable under --strict) and return False: the primitive goes on here.
    `strict` overrides the predicate of set_strict (a node knows its program's)."""
    return staying_because(frame, strict) is None


def staying_because(frame, strict: bool | None = None) -> str | None:
    """capturable(), saying why not: None if the program can be captured from `frame`, else
    the reason it goes on here (reported like capturable's; a node counts it by reason)."""
    reason = why_not_capturable(frame, loader.is_compiled_code, loader.is_root_code)
    if reason is not None:
        fall_back(reason, strict)
    return reason


def fall_back(reason: str, strict: bool | None = None) -> None:
    """The program goes on here instead of migrating, for `reason`: count it, tell it once."""
    if _strict() if strict is None else strict:
        raise NotMigratable(f"cannot migrate: {reason}")
    counts["fallbacks"] += 1
    if reason in process_state.warned:
        return
    process_state.warned.add(reason)
    print(f"swarm: not migrating {reason}; going on here, fetching instead", file=sys.stderr)
