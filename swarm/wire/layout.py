"""An encoded value's pieces and their flat layout (what the store and the wire keep): the part
of swarm/wire/values.py that needs no pickle, so that the node's machine can look into an
encoded value without importing the codec (swarm/node/machine/gcscan.py).

Flat layout (what a Packed's parts add up to, and what the store and the wire keep):

    | 4 bytes      | magic b"SWV1"                                                   |
    | 1 byte       | kind: 0 a pickle with buffers; 1 bytes; 2 bytearray; 3 memoryview |
    | 3 bytes      | zero                                                            |
    | 4 bytes      | n: the number of pieces (the head, then the buffers), big-endian  |
    | 8 * n bytes  | each piece's length                                              |
    | pieces       | each starting at a multiple of 64 from the start (zero padding)  |

A value with no buffer of OOB_MIN bytes or more is plain codec bytes (pickle or dill, as
`codec.dumps` makes them, and as stores written before this layout hold them).
"""

from __future__ import annotations

import struct

MAGIC = b"SWV1"
ALIGN = 64  # where each piece starts in the flat layout (numpy wants aligned memory)
PICKLED, BYTES, BYTEARRAY, MEMORYVIEW = 0, 1, 2, 3
_FIXED = struct.Struct(">4sB3xI")
_ZEROS = bytes(ALIGN)


def human(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


class Packed:
    """An encoded value: `parts`, bytes-like pieces whose concatenation is the flat layout
    (never joined here: each goes to a frame or a file as it is)."""

    __slots__ = ("parts", "nbytes", "kind", "head", "buffers")

    def __init__(self, kind: int, head: bytes, buffers: list) -> None:
        self.kind, self.head, self.buffers = kind, head, buffers
        pieces = [head, *buffers]
        lengths = [memoryview(p).nbytes for p in pieces]
        index = _FIXED.pack(MAGIC, kind, len(pieces)) + struct.pack(f">{len(pieces)}Q",
                                                                    *lengths)
        parts: list = [index]
        at = len(index)
        for piece, length in zip(pieces, lengths, strict=True):
            pad = -at % ALIGN
            if pad:
                parts.append(_ZEROS[:pad])
                at += pad
            parts.append(piece)
            at += length
        self.parts, self.nbytes = parts, at

    def __len__(self) -> int:
        return self.nbytes

    def flat(self) -> bytes:
        """The flat layout in one bytes object (a copy: for small values only)."""
        return b"".join(self.parts)

    def __repr__(self) -> str:
        return f"<Packed {human(self.nbytes)} in {len(self.buffers)} buffers>"


def nbytes(blob) -> int:
    """The size of an encoded value (a Packed, or bytes-like)."""
    if blob is None:
        return 0
    return blob.nbytes if isinstance(blob, (Packed, memoryview)) else len(blob)


def parts_of(blob) -> list:
    """The pieces to send or write for an encoded value."""
    return blob.parts if isinstance(blob, Packed) else [blob]


def unpack(blob) -> tuple[int, bytes | memoryview, list]:
    """(kind, head, buffers) of an encoded value: a Packed, or its flat layout (bytes, or a
    memoryview of a received frame or of a store file's map). Buffers are read-only views
    of that memory, not copies."""
    if isinstance(blob, Packed):
        return blob.kind, blob.head, [memoryview(b).toreadonly() for b in blob.buffers]
    view = memoryview(blob)
    if view.nbytes < _FIXED.size or bytes(view[:4]) != MAGIC:
        return -1, blob, []
    if not view.readonly:
        view = view.toreadonly()
    _, kind, count = _FIXED.unpack_from(view)
    lengths = struct.unpack_from(f">{count}Q", view, _FIXED.size)
    at = _FIXED.size + 8 * count
    pieces = []
    for length in lengths:
        at += -at % ALIGN
        pieces.append(view[at:at + length])
        at += length
    if at != view.nbytes:
        raise ValueError(f"an encoded value of {view.nbytes} bytes says it holds {at}")
    return kind, pieces[0], pieces[1:]


def is_plain(blob) -> bool:
    """Plain codec bytes (no buffers out of band)?"""
    return unpack(blob)[0] < 0
