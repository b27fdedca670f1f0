"""Which Ref ids a stored or sent thing holds, found in its bytes (garbage collection: gc.py).

A Ref pickles as its id and hint (swarm/handles.py): the id is in the pickle as its UTF-8
bytes, whatever holds it - a Ref's value, a continuation, a program's result, a collection's
index. So the ids a blob holds are found by looking for them in its bytes, without
unpickling anything (nothing here runs code from the network or the store):

    finder = IdFinder(["n1", "n2", "n3"])
    finder.ids_in(blob)      -> {"n2.5f3a09c1.17", ...}
    finder.collectable(id)   -> is it an id a node made for `Ref(...)`?

Only the ids of Refs made by `Ref(...)` (`<node>.<boot: 8 hex digits>.<n>`, shell.new_ref_id)
and of futures (`f<20 hex digits>`, tasks.spawn_task: a future's result is kept under it)
are looked for: those are the Refs a collection may remove. Every other Ref (a collection's
parts, a named Ref) is a root: never collected, and what its value holds is reachable.

Discussion: finding too much is safe, too little is not. Bytes that merely look like an id
(a string a program made) keep that Ref: safe. An id's last digits may run into the byte
after it in a pickle (an opcode can be an ASCII digit), so every shorter id those digits
begin is taken as found too: a Ref kept that could have gone, never one lost - except where
the bytes are a pickled str (SHORT_BINUNICODE, as pickle writes every id), whose length byte
just before says where it ends. An encoded
value's buffers out of band (bytes, arrays: swarm/wire/values.py) are raw data, not pickles,
and are not read.
"""

from __future__ import annotations

import re

from swarm.wire import layout

_SHORT_STR = 0x8C  # pickle's SHORT_BINUNICODE: a str of up to 255 bytes, its length before it
_MAX_DEPTH = 6  # how deep `scan` looks into containers of blobs
FUTURE = r"f[0-9a-f]{20}"  # a future's id (tasks.spawn_task: "f" and a derived id)


class IdFinder:
    def __init__(self, names) -> None:
        alternatives = b"|".join(re.escape(n.encode()) for n in
                                 sorted(names, key=len, reverse=True))
        # every place an id starts (a lookahead: ids found inside others are found too)
        self._pattern = re.compile(rb"(?=((?:" + alternatives + rb")\.[0-9a-f]{8}\.([0-9]+)))")
        self._exact = re.compile("(?:" + "|".join(re.escape(n) for n in names)
                                 + r")\.[0-9a-f]{8}\.[0-9]+|" + FUTURE)
        # (a future's id is fixed in length; hex digits around it are taken as found too)
        self._futures = re.compile(rb"(?=(" + FUTURE.encode() + rb"))")

    def collectable(self, ref_id: str) -> bool:
        """Is this the id of a Ref made by `Ref(...)`, or of a future's result (one a
        collection may remove)?"""
        return self._exact.fullmatch(ref_id) is not None

    def ids_in(self, blob, found: set | None = None) -> set:
        """The collectable ids in an encoded value, a continuation or any bytes."""
        found = set() if found is None else found
        if blob is None:
            return found
        if isinstance(blob, layout.Packed) or (len(blob) >= 4 and bytes(blob[:4]) == layout.MAGIC):
            try:
                kind, head, _ = layout.unpack(blob)
            except ValueError:  # not the layout after all: every byte is read
                kind, head = layout.PICKLED, blob
            if kind != layout.PICKLED:
                return found  # bytes, a bytearray, a memoryview: no Ref in it
            blob = head
        for match in self._pattern.finditer(blob):
            token, digits = match.group(1), match.group(2)
            stem = token[:len(token) - len(digits)]
            at = match.start()
            if at >= 2 and blob[at - 2] == _SHORT_STR and \
                    len(stem) < blob[at - 1] <= len(token):
                found.add(token[:blob[at - 1]].decode())  # a pickled str: its length says
                continue
            for k in range(1, len(digits) + 1):
                found.add((stem + digits[:k]).decode())
        if b"f" in blob:
            found.update(m.group(1).decode() for m in self._futures.finditer(blob))
        return found

    def scan(self, thing, found: set, depth: int = 0) -> set:
        """The ids in every blob inside `thing` (bytes, or lists, tuples, sets, dicts and
        dataclass-like objects of them)."""
        if isinstance(thing, (bytes, bytearray, memoryview, layout.Packed)):
            return self.ids_in(thing, found)
        if isinstance(thing, str):  # (ids a message names as text: a collection's memo)
            return self.ids_in(thing.encode("utf-8", "surrogatepass"), found) \
                if "." in thing else found
        if depth >= _MAX_DEPTH or thing is None or isinstance(thing, (int, float)):
            return found
        if isinstance(thing, dict):
            for item in thing.values():
                self.scan(item, found, depth + 1)
        elif isinstance(thing, (list, tuple, set, frozenset)):
            for item in thing:
                self.scan(item, found, depth + 1)
        else:
            for name in getattr(type(thing), "__slots__", ()):
                self.scan(getattr(thing, name, None), found, depth + 1)
        return found
