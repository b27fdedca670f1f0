"""Skywriting's operators, with the language's semantics: what `+`, `-`, `<`, `x[i]`, `x += v`,
`for (x in e)`, `f(...)` and `*f` do to each kind of value, and the located error when a kind
does not fit (docs/skywriting.md, Expressions). `==`, `!=`, `&&`, `||` and `!` compile to
Python's own operators (translate.py).
"""

from __future__ import annotations

from types import FunctionType

from swarm.futures import Future
from swarm.skywriting.errors import SkywritingError
from swarm.skywriting.values import hashable_key, is_number, json_text, kind, text


def add(a, b):
    """a + b: numbers add, strings and lists concatenate; other pairs are an error."""
    if is_number(a) and is_number(b):
        return a + b
    if type(a) is type(b) and isinstance(a, (str, list)):
        return a + b
    raise SkywritingError(f"cannot apply + to {kind(a)} and {kind(b)}")


def sub(a, b):
    """a - b, numbers only."""
    if not (is_number(a) and is_number(b)):
        raise SkywritingError(f"cannot apply - to {kind(a)} and {kind(b)}")
    return a - b


def neg(a):
    """-a, a number only."""
    if not is_number(a):
        raise SkywritingError(f"cannot negate {kind(a)}")
    return -a


_ORDER = {"<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
          ">=": lambda a, b: a >= b}


def compare(op: str, a, b) -> bool:
    """a < b (and >, <=, >=): numbers (booleans among them) with numbers, strings with
    strings, lists with lists (item by item). The original (Python 2) also ordered values of
    different kinds, by an arbitrary rule; here that is an error."""
    if (is_number(a) and is_number(b)) or (type(a) is type(b) and isinstance(a, (str, list))):
        try:
            return _ORDER[op](a, b)
        except TypeError:
            pass  # lists whose items cannot be ordered
    raise SkywritingError(f"cannot compare {kind(a)} and {kind(b)} with {op}")


def iadd(x, v):
    """x += v: a list appends v (even a list, as one element); anything else is x + v."""
    if isinstance(x, list):
        x.append(v)
        return x
    return add(x, v)


def getitem(obj, key):
    """obj[key]: a dict's value, a list's or string's item (negative from the end)."""
    if isinstance(obj, dict):
        if hashable_key(key, "index") not in obj:
            raise SkywritingError(f"no key {text(key) if isinstance(key, str) else json_text(key)}"
                                  " in the dict")
        return obj[key]
    if isinstance(obj, (list, str)):
        if not isinstance(key, int):  # a boolean indexes as 0 or 1, as in the original
            raise SkywritingError(f"index of {kind(obj)} must be a number, not {kind(key)}")
        if not -len(obj) <= key < len(obj):
            raise SkywritingError(f"index {key} out of range (length {len(obj)})")
        return obj[key]
    raise SkywritingError(f"cannot index {kind(obj)}")


def setitem(obj, key, value) -> None:
    """obj[key] = value: a list grows with nulls to an index past its end."""
    if isinstance(obj, dict):
        obj[hashable_key(key, "assignment")] = value
        return
    if isinstance(obj, list):
        if not isinstance(key, int):
            raise SkywritingError(f"index of a list must be a number, not {kind(key)}")
        if key >= len(obj):
            obj.extend([None] * (key + 1 - len(obj)))
        elif key < -len(obj):
            raise SkywritingError(f"index {key} out of range (length {len(obj)})")
        obj[key] = value
        return
    raise SkywritingError(f"cannot assign into {kind(obj)}")


def iadd_item(obj, key, v) -> None:
    """obj[key] += v"""
    setitem(obj, key, iadd(getitem(obj, key), v))


def iterate(x) -> list:
    """What `for (x in e)` visits: a list's items, a string's characters, a dict's keys
    (a copy: what the loop appends is not visited)."""
    if isinstance(x, (list, str)):
        return list(x)
    if isinstance(x, dict):
        return list(x.keys())
    raise SkywritingError(f"cannot iterate over {kind(x)}")


def callable(f):  # noqa: A001 - the check before a call
    """f, checked to be a function before it is called."""
    if not isinstance(f, FunctionType):
        raise SkywritingError(f"{kind(f)} is not a function")
    return f


def future(x) -> Future:
    """*x is future(x).get(): a future's value (waiting where it will appear); `*` of
    anything else is an error."""
    if not isinstance(x, Future):
        raise SkywritingError(f"* of {kind(x)}, which is not a future")
    return x
