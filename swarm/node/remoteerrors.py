"""An error raised on the node a question was asked of, given to the program that asked.

A program that asks instead of moving (the fetch policy, auto, a program that cannot move)
has a Ref operation or a future's question done on another node; when it fails there, the
program gets the error it would have got had it moved there and done it itself (the migrate
policy): the same type and message, with a note naming the node and what it did.

On the wire an error is a type's name and a message (`error_type`, `error_text`, beside the
`error` string "Type: message" kept for the log and the older readers), never a pickled
exception: only swarm/wire unpickles network bytes, and a name is only turned into a class
from ERROR_TYPES, a fixed list. An error of another type travels as the nearest type of the
list it derives from (a json.JSONDecodeError as a ValueError: `except ValueError` in the
program catches it as it would have), and one that derives from none of them (a program's
own exception class) as RemoteError, naming its type.
"""

from __future__ import annotations

from swarm.continuation.errors import NotMigratable
from swarm.errors import AtomicConflict, NodeGone, NotOnANode, RemoteError, StorageFull
from swarm.wire.values import ValueTooLarge

ERROR_TYPES: dict[str, type[Exception]] = {cls.__name__: cls for cls in (
    # swarm's own (most derived first: the nearest type is the first of the MRO listed)
    StorageFull, ValueTooLarge, NotMigratable, AtomicConflict, NodeGone, NotOnANode,
    # Python's, that a Ref or collection operation or a value's unpickling raises
    KeyError, IndexError, LookupError, ZeroDivisionError, OverflowError, ArithmeticError,
    TypeError, ValueError, UnicodeError, AttributeError, NotImplementedError,
    RecursionError, RuntimeError, TimeoutError, MemoryError, AssertionError,
    ModuleNotFoundError, ImportError, PermissionError, FileNotFoundError, OSError)}


def describe(e: BaseException) -> dict:
    """The fields of an answer that carry `e` (the asker rebuilds it with `rebuild`)."""
    name = type(e).__name__
    try:
        text = e.args[0] if len(e.args) == 1 and isinstance(e.args[0], str) else str(e)
        line = f"{name}: {e}"  # (as before: what the log and older readers show)
    except Exception:  # (a str() that raises: the question is answered all the same)
        text = f"(an error whose message cannot be made: {e.args!r:.200})"
        line = f"{name}: {text}"
    reply = {"error": line, "error_text": text}
    nearest = next((cls.__name__ for cls in type(e).__mro__
                    if ERROR_TYPES.get(cls.__name__) is cls), None)
    if nearest is not None:
        reply["error_type"] = nearest
    if nearest != name:  # (the type it had there, for the note)
        reply["error_was"] = f"{type(e).__module__}.{type(e).__qualname__}"
    return reply


def rebuild(reply: dict, node: str, what: str) -> Exception:
    """The exception to raise in the program for an error answer of `node` to a question
    that did `what` ("get of Ref('n2.5')"): the type named, if it is on the list, with the
    message and a note; else RemoteError naming the error, the node and what it did."""
    error = reply["error"]
    cls = ERROR_TYPES.get(reply.get("error_type") or "")
    was = reply.get("error_was")
    where = f"raised on {node} while it did {what} for this program (asked, not moved to)"
    if cls is not None:
        try:
            e = cls(reply.get("error_text", error))
        except Exception:  # (a type whose constructor wants more than a message)
            pass
        else:
            e.add_note(f"({where}{f'; there it was {was}' if was else ''})")
            return e
    return RemoteError(f"{error} ({where})", node=node, error_type=was or "")
