"""A Ref's value as bytes, with its bulk out of band: what is stored, sent and read back.

    packed = values.encode(value)          # Packed, or plain bytes when nothing is bulky
    value = values.decode(packed_or_flat)  # from a Packed, or its flat bytes (store, wire)

The wire's part of a value (beside decode.py, which calls it): how a value is laid out as
pieces. `bytes`, `bytearray`, `memoryview` and buffer-protocol values (numpy arrays) are not copied
into a pickle: pickle protocol 5 hands their memory over as buffers (PickleBuffer), and an
encoded value is its pickle (the *head*) and those buffers, kept side by side. Sent, the
pieces become ZeroMQ frames as they are (envelope.py signs them, chunks.py cuts them); stored,
they are written one after the other (swarm/node/store.py, into a file beside the database when large);
read back, numpy arrays are made on the received or stored memory itself (numpy.frombuffer
inside pickle), never unpickled byte by byte.

Flat layout (what a Packed's parts add up to, and what the store and the wire keep):

    | 4 bytes      | magic b"SWV1"                                                   |
    | 1 byte       | kind: 0 a pickle with buffers; 1 bytes; 2 bytearray; 3 memoryview |
    | 3 bytes      | zero                                                            |
    | 4 bytes      | n: the number of pieces (the head, then the buffers), big-endian  |
    | 8 * n bytes  | each piece's length                                              |
    | pieces       | each starting at a multiple of 64 from the start (zero padding)  |

A value with no buffer of OOB_MIN bytes or more is plain codec bytes (pickle or dill, as
`codec.dumps` makes them, and as stores written before this layout hold them).

Discussion: what a reader may share. Every piece a Packed holds is memory nobody can change
any more - `bytes`, a read-only map of a store file, or a copy made when the value was
encoded (a program that goes on changing its numpy array after `Ref(array)` must not change
the Ref). So decoded arrays sit on read-only memory (numpy.frombuffer of a read-only buffer:
they refuse writes, and their flag cannot be set back), and readers may share them.
"""

from __future__ import annotations

import mmap
import pickle
import struct

from swarm.continuation import codec

MAGIC = b"SWV1"
OOB_MIN = 64 * 1024  # a buffer smaller than this stays inside the pickle
SLACK = 64 * 1024 * 1024  # what a message may carry beside a value of the largest size
ALIGN = 64  # where each piece starts in the flat layout (numpy wants aligned memory)
PICKLED, BYTES, BYTEARRAY, MEMORYVIEW = 0, 1, 2, 3
_FIXED = struct.Struct(">4sB3xI")
_ZEROS = bytes(ALIGN)


class ValueTooLarge(ValueError):
    """A value (or a continuation, a message) larger than the cluster allows."""


def limit_error(what: str, size: int, limit: int, setting: str = "max_value_bytes") -> str:
    return (f"{what} is {human(size)} ({size} bytes), over the cluster's {setting} of "
            f"{human(limit)} ({limit} bytes)")


def human(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def quick_size(value) -> int | None:
    """The size of a value's buffer, known without encoding it (bytes, bytearray,
    memoryview, numpy arrays); None for other values."""
    t = type(value)
    if t in (bytes, bytearray):
        return len(value)
    nbytes = getattr(value, "nbytes", None) if t is memoryview or \
        t.__name__ == "ndarray" else None
    return nbytes if isinstance(nbytes, int) else None


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


# ---- encoding -----------------------------------------------------------------------------------

def _frozen(view: memoryview) -> bool:
    """Is this memory that nobody can change (so an encoded value may keep it uncopied)?
    bytes, a read-only map of a file of the store, or a read-only array on either."""
    obj, seen = view, 0
    while obj is not None and seen < 32:
        seen += 1
        if isinstance(obj, bytes):
            return True
        if isinstance(obj, mmap.mmap):
            return view.readonly
        if isinstance(obj, memoryview):
            if not obj.readonly:
                return False
            obj = obj.obj
            continue
        flags = getattr(obj, "flags", None)  # a numpy array: read-only, and on what?
        if flags is not None and getattr(flags, "writeable", True) is False:
            obj = getattr(obj, "base", None)
            continue
        return False
    return False


def _snapshot(buf) -> bytes | memoryview:
    """A buffer's bytes as they are now: the memory itself if it can never change, else a
    copy (one memcpy; a program may go on changing its array after `Ref(array)`)."""
    view = memoryview(buf)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B") if view.c_contiguous else memoryview(view.tobytes())
    return view.toreadonly() if _frozen(view) else view.tobytes()


def encode(value, limit: int | None = None, what: str = "the value") -> Packed | bytes:
    """A value to stored / sent form. Raises ValueTooLarge (naming `what`, the size and the
    limit) past `limit`, and codec's NotMigratable for what cannot be stored."""
    t = type(value)
    if t in (bytes, bytearray, memoryview) and memoryview(value).nbytes >= OOB_MIN:
        kind = BYTES if t is bytes else BYTEARRAY if t is bytearray else MEMORYVIEW
        view = memoryview(value)
        head = pickle.dumps((view.format, view.shape) if t is memoryview else None)
        blob: Packed | bytes = Packed(kind, head, [_snapshot(value)])
    else:
        buffers: list = []

        def out_of_band(pb: pickle.PickleBuffer):
            raw = pb.raw()
            if raw.nbytes < OOB_MIN:
                return True  # in the pickle
            buffers.append(_snapshot(raw))
            return None

        head = codec.dumps(value, buffer_callback=out_of_band)
        blob = Packed(PICKLED, head, buffers) if buffers else head
    if limit is not None and nbytes(blob) > limit:
        raise ValueTooLarge(limit_error(what, nbytes(blob), limit))
    return blob


# ---- decoding -----------------------------------------------------------------------------------

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


def _is_view(value) -> bool:
    t = type(value)
    return t is memoryview or (t.__name__ == "ndarray" and t.__module__ == "numpy")


def decode(blob):
    """An encoded value back to a value. An array or a memoryview comes back on the encoded
    memory (read-only: see the module's Discussion); arrays inside another value, and a
    bytearray, are fresh copies the reader may change."""
    kind, head, buffers = unpack(blob)
    if kind < 0:
        return codec.loads(head)
    if kind == PICKLED:
        value = codec.loads(head, buffers=buffers)
        if _is_view(value):
            return value
        # arrays inside a list, a dict, an object: the reader's own (writable) copies
        return codec.loads(head, buffers=[bytearray(b) for b in buffers])
    (buf,) = buffers
    if kind == BYTES:
        return buf.obj if type(buf.obj) is bytes and len(buf.obj) == buf.nbytes \
            else buf.tobytes()
    if kind == BYTEARRAY:
        return bytearray(buf)
    fmt, shape = pickle.loads(head)
    return buf.cast(fmt, shape) if (fmt, shape) != ("B", (buf.nbytes,)) else buf


def private_copy(blob):
    """What a reader gets of a value that is not shared: decoded again from its encoded form
    (buffers copied, so that arrays inside a list or dict it changes are its own)."""
    kind, head, buffers = unpack(blob)
    if kind == PICKLED:
        return codec.loads(head, buffers=[bytearray(b) for b in buffers])
    return decode(blob)
