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

The flat layout and its reading: swarm/wire/layout.py.

Discussion: what a reader may share. Every piece a Packed holds is memory nobody can change
any more - `bytes`, a read-only map of a store file, or a copy made when the value was
encoded (a program that goes on changing its numpy array after `Ref(array)` must not change
the Ref). So decoded arrays sit on read-only memory (numpy.frombuffer of a read-only buffer:
they refuse writes, and their flag cannot be set back), and readers may share them.
"""

from __future__ import annotations

import mmap
import pickle

from swarm.continuation import codec
from swarm.wire.layout import (  # noqa: F401 (this module's names, as before)
    ALIGN,
    BYTEARRAY,
    BYTES,
    MAGIC,
    MEMORYVIEW,
    PICKLED,
    Packed,
    human,
    is_plain,
    nbytes,
    parts_of,
    unpack,
)

OOB_MIN = 64 * 1024  # a buffer smaller than this stays inside the pickle
SLACK = 64 * 1024 * 1024  # what a message may carry beside a value of the largest size


class ValueTooLarge(ValueError):
    """A value (or a continuation, a message) larger than the cluster allows."""


def limit_error(what: str, size: int, limit: int, setting: str = "max_value_bytes") -> str:
    return (f"{what} is {human(size)} ({size} bytes), over the cluster's {setting} of "
            f"{human(limit)} ({limit} bytes)")


def quick_size(value) -> int | None:
    """The size of a value's buffer, known without encoding it (bytes, bytearray,
    memoryview, numpy arrays); None for other values."""
    t = type(value)
    if t in (bytes, bytearray):
        return len(value)
    nbytes = getattr(value, "nbytes", None) if t is memoryview or \
        t.__name__ == "ndarray" else None
    return nbytes if isinstance(nbytes, int) else None


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
