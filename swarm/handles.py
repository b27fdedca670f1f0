"""What a program holds of data that lives on nodes: a Handle (a Ref, a Future) is an id and
where to look for it, and pickles as those two strings, never as the data.

The node's code works with handles by their `kind` and fields (it never imports the API
modules refs.py and futures.py, which sit above it)."""

from __future__ import annotations


class Handle:
    """An id and where to look for it (a hint, corrected as forwards are met)."""

    __slots__ = ("id", "hint")
    kind = ""  # "ref" or "future"

    @classmethod
    def _handle(cls, handle_id: str, hint: str):
        handle = object.__new__(cls)
        handle.id, handle.hint = handle_id, hint
        return handle

    def __reduce__(self):
        return (type(self)._handle, (self.id, self.hint))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r} at {self.hint!r})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

