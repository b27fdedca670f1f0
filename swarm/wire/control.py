"""Control frames: msgpack of plain values (str, int, float, bool, None, bytes, lists and
maps of them) - data, never code. The node's machine encodes its messages' fields and reads
its own stored hop metadata with these; decode.py checks what arrives from the network."""

from __future__ import annotations

import msgpack


def encode(fields: dict) -> bytes:
    """A control frame (or a hop's meta frame)."""
    return msgpack.packb(fields, use_bin_type=True)


def decode(data) -> object:
    """A control frame's value (raises on bytes that are not msgpack)."""
    return msgpack.unpackb(data, raw=False)
