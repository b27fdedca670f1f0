"""Skywriting's values as the language sees them: their kinds, their text (JSON), the unbound
sentinel, and the script's result.

A value is null (None), a boolean, a number, a string, a list, a dict, a function, a future
or a reference (a Ref). `text(x)` is what `str(x)` and `print(x)` show; `json_text(x)` is
the JSON form (a string with its quotes); `kind(x)` names a value's kind in error messages.
"""

from __future__ import annotations

import json
from types import FunctionType

from swarm.futures import Future
from swarm.refs import Ref
from swarm.skywriting.errors import SkywritingError


class _Unbound:
    """The value of a variable not assigned yet (reading it is an error: `unbound`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNBOUND"

    def __reduce__(self):
        return "UNBOUND"


UNBOUND = _Unbound()


def unbound(name: str):
    """Reading a variable that has no value yet: an error naming it."""
    raise SkywritingError(f"unbound name '{name}'")


def text(x) -> str:
    """str(x): JSON-style text; a string is itself."""
    return x if isinstance(x, str) else json_text(x)


def json_text(x) -> str:
    """The JSON text of a value (futures and references as {"__ref__": [...]})."""
    if x is None:
        return "null"
    if x is True:
        return "true"
    if x is False:
        return "false"
    if isinstance(x, (int, float, str)):
        return json.dumps(x)
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(json_text(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{json_text(text(k))}: {json_text(v)}" for k, v in x.items()) + "}"
    if isinstance(x, Future):  # the original's encoding of a future reference
        return json_text({"__ref__": ["f2", x.id]})
    if isinstance(x, Ref):
        return json_text({"__ref__": ["ref", x.id, x.hint]})
    if isinstance(x, FunctionType):  # no JSON form: print/str and the console only
        name = x.__name__
        return f"<function {name[2:] if name.startswith('v_') else 'anonymous'}>"
    return f"<{type(x).__name__}>"


def not_json(x) -> str | None:
    """What in `x` has no JSON form (a function, a host object), or None if it all has."""
    if x is None or isinstance(x, (bool, int, float, str, Future, Ref)):
        return None
    if isinstance(x, (list, tuple)):
        return next((found for v in x if (found := not_json(v))), None)
    if isinstance(x, dict):
        return next((found for v in x.values() if (found := not_json(v))), None)
    if isinstance(x, FunctionType):
        return json_text(x)
    return f"a value of the host type {type(x).__name__}"


def result(x):
    """A script's result (its top-level `return`): JSON, so a function in it is an error
    (as in the original, whose result was JSON-encoded); futures and references in it are
    {"__ref__": [...]} objects."""
    found = not_json(x)
    if found:
        raise SkywritingError(f"the script's result must be JSON, and it holds {found}")
    return x


def to_json(x):
    """A result as JSON text (the last line `swarm run` prints)."""
    return json_text(x)


def kind(x) -> str:
    """The kind of a value in words, for error messages ("a list", "null")."""
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "a boolean"
    if isinstance(x, (int, float)):
        return "a number"
    if isinstance(x, str):
        return "a string"
    if isinstance(x, list):
        return "a list"
    if isinstance(x, dict):
        return "a dict"
    if isinstance(x, Future):
        return "a future"
    if isinstance(x, FunctionType):
        return "a function"
    return type(x).__name__


def is_number(x) -> bool:
    """Numbers, and the booleans with them: as in the original (Python), true is 1 and
    false is 0 in arithmetic and comparisons (`true + 1` is 2)."""
    return isinstance(x, (int, float))


def hashable_key(k, name: str):
    """`k` as a dict's key (a list or a dict cannot be one: an error naming `name`)."""
    if isinstance(k, (list, dict)):
        raise SkywritingError(f"{name}: a dict's key cannot be {kind(k)}")
    return k
