"""Messages larger than a frame limit: cut into chunks by the sender, put together again by
the receiver. No message on the wire is ever larger than `chunk_bytes` (plus a head).

    for frames in split(signer, kind, control, blobs, chunk_bytes):   # the sender
        send(frames)
    env = assembler.add(chunk_env, payload)    # the receiver, per "chunk" that passed the
                                               # gate: the whole message's Envelope once
                                               # its last chunk is in, else None

A message whose blobs add up to more than `chunk_bytes` goes as a stream of "chunk"
messages, each signed on its own (envelope.py) and each checked by the receiver's gate like
any message (signature, sender, replay). The first carries the whole message's kind, its
control frame and the sizes of its blobs; every chunk carries the stream's id, its index and
the next slice of the blobs' bytes, laid end to end (a slice of the sender's memory: an
array's buffer is never copied to be sent). The receiver writes each slice where it belongs
in memory it maps for the whole message (anonymous memory: given back to the system when the
message is done with), and hands on the message, its blobs read-only views of that memory,
with the sender, boot, seq and time of its last chunk.

    chunk  control {stream, index, count?, kind?, control?, sizes?}, blobs: the slice
           (count, kind, control, sizes: in index 0 only)

Discussion: why the receiver may trust the whole. Each chunk is signed under the cluster
secret, and the stream's id, the chunk's index and - in the first - the kind, control and
sizes are inside what is signed; ZeroMQ keeps one connection's messages in order, and a
sender sends a stream's chunks one after the other. So a stream is taken only as its chunks
come, index 0, 1, 2... from one (sender, boot): a missing, repeated or foreign chunk drops
the stream (counted as a refusal), a new stream from the same sender drops the one before
(its sender gave up on it: a resend that found the peer's queue full), and a replayed chunk
is refused by the gate before it gets here.
"""

from __future__ import annotations

import mmap
import time
from dataclasses import dataclass, field

from swarm.wire.control import encode
from swarm.wire.envelope import Envelope, Malformed, TooLarge, WireError, frame_size, pieces

CHUNK_BYTES = 16 * 1024 * 1024  # the largest slice of a message in one chunk
STREAM_IDLE_SECONDS = 120.0  # a stream with no chunk for this long is dropped
_MAPPED = 1024 * 1024  # a message's blob from this size on is assembled in mapped memory
_MAX_PIECES = 8  # a chunk made of more slices than this (many small buffers) joins them


class CutStream(WireError):
    """A chunk of a stream whose earlier chunks did not come (lost with a connection that
    closed or was replaced, gate.py): the stream is dropped; its sender sends the message
    again if it must arrive (hops, questions, records are)."""

    reason = "cut stream"


class NoMemory(WireError):
    """This node could not get the memory to put a message together."""

    reason = "no memory"


def chunk_size(max_message_bytes: int) -> int:
    """The slice a chunk carries under a cluster's max_message_bytes."""
    return max(4096, min(CHUNK_BYTES, max_message_bytes // 2))


def size_of(control: bytes, blobs) -> int:
    return len(control) + sum(map(frame_size, blobs))


def split(signer, kind: str, control: bytes, blobs, chunk_bytes: int) -> list[list]:
    """The messages to send for one: itself, or its chunks (see the module's doc)."""
    sizes = [frame_size(b) for b in blobs]
    total = sum(sizes)
    if total <= chunk_bytes:
        return [signer.pack(kind, control, blobs)]
    count = -(-total // chunk_bytes)
    stream = signer.next_stream()
    messages: list = []
    slices: list = []
    room = chunk_bytes
    for blob in blobs:
        for piece in pieces(blob):
            view = memoryview(piece).cast("B") if not isinstance(piece, bytes) else \
                memoryview(piece)
            while view.nbytes:
                take = view[:room]
                slices.append(take)
                room -= take.nbytes
                view = view[take.nbytes:]
                if room == 0:
                    messages.append(_chunk(signer, stream, len(messages), slices, count,
                                           kind, control, sizes))
                    slices, room = [], chunk_bytes
    if slices:
        messages.append(_chunk(signer, stream, len(messages), slices, count, kind, control,
                               sizes))
    return messages


def _chunk(signer, stream: int, index: int, slices: list, count: int, kind: str,
           control: bytes, sizes: list) -> list:
    fields: dict = {"stream": stream, "index": index}
    if index == 0:
        fields.update(count=count, kind=kind, control=control, sizes=sizes)
    if len(slices) > _MAX_PIECES:
        slices = [b"".join(slices)]
    return signer.pack("chunk", encode(fields), slices)


def _mapped(size: int) -> mmap.mmap:
    """Anonymous memory for a message's blob, its pages made at once (MAP_POPULATE: one
    call into the kernel rather than a page fault per 4 KiB as the chunks are copied in)."""
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)
    return mmap.mmap(-1, size, flags=flags)


@dataclass
class _Stream:
    stream: int
    kind: str
    control: bytes
    count: int
    frames: list  # memory for each blob of the message
    sizes: list
    total: int
    next_index: int = 1
    frame: int = 0  # the blob being filled, and how far
    at: int = 0
    got: int = 0
    touched: float = field(default_factory=time.monotonic)


class Assembler:
    """The receiving end: one stream at a time per (sender, boot)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes  # the largest message a stream may declare
        self.streams: dict[tuple[str, int], _Stream] = {}
        self.cut: dict[tuple[str, int], int] = {}  # (sender, boot) -> a stream cut short
        self.cut_chunks = 0  # chunks dropped since, after the first of their stream

    def add(self, env: Envelope, p: dict) -> Envelope | None:
        """Take one chunk (its payload `p` checked by decode.payload): the whole message's
        Envelope once complete, else None. Raises Malformed or TooLarge (the stream is
        dropped)."""
        key = (env.sender, env.boot)
        self._sweep(time.monotonic())
        if p["index"] == 0:
            self.streams.pop(key, None)
            stream = self._open(env, p)
            self.streams[key] = stream
        else:
            stream = self.streams.get(key)
            if stream is None or stream.stream != p["stream"] or p["index"] != stream.next_index:
                self.streams.pop(key, None)
                if self.cut.get(key) == p["stream"]:
                    self.cut_chunks += 1  # (its first chunk said why)
                    return None
                self.cut[key] = p["stream"]
                raise CutStream(f"chunk {p['index']} of stream {p['stream']} from "
                                f"{env.sender} came without the chunks before it (expected "
                                f"{stream.next_index if stream else 'a first chunk'}: they "
                                f"went with a connection that closed or was replaced): the "
                                f"stream is dropped, and the rest of its chunks; its sender "
                                f"sends again what must arrive")
            stream.next_index += 1
        try:
            self._fill(stream, env.blobs)
        except Malformed:
            self.streams.pop(key, None)
            raise
        stream.touched = time.monotonic()
        if stream.next_index < stream.count:
            return None
        del self.streams[key]
        if stream.got != stream.total:
            raise Malformed(f"stream {stream.stream} from {env.sender} ended after {stream.got} "
                            f"of {stream.total} bytes")
        blobs = tuple(f.toreadonly() if isinstance(f, memoryview) else bytes(f)
                      for f in stream.frames)
        return Envelope(stream.kind, env.sender, env.boot, env.seq, env.sent_ms,
                        stream.control, blobs)

    def _open(self, env: Envelope, p: dict) -> _Stream:
        sizes, kind, control, count = p.get("sizes"), p.get("kind"), p.get("control"), \
            p.get("count")
        if not (isinstance(sizes, list) and all(isinstance(s, int) and s >= 0 for s in sizes)
                and isinstance(kind, str) and isinstance(control, bytes)
                and isinstance(count, int) and count > 0):
            raise Malformed(f"first chunk of stream {p['stream']} from {env.sender} lacks "
                            f"its message's kind, control, sizes or count")
        total = sum(sizes)
        if total + len(control) > self.max_bytes:
            raise TooLarge(f"a {kind} of {total + len(control)} bytes in chunks from "
                           f"{env.sender} exceeds {self.max_bytes}")
        try:
            frames = [memoryview(_mapped(s)) if s >= _MAPPED else bytearray(s) for s in sizes]
        except (MemoryError, OSError) as e:
            raise NoMemory(f"a {kind} of {total + len(control)} bytes in chunks from "
                           f"{env.sender}: this node could not get memory for it "
                           f"({type(e).__name__}: {e}; it holds {self.pending()} bytes of "
                           f"other messages in chunks): refused, its sender sends it again"
                           f"") from None
        return _Stream(p["stream"], kind, control, count, frames, sizes, total)

    @staticmethod
    def _fill(stream: _Stream, blobs) -> None:
        for blob in blobs:
            view = memoryview(blob)
            while view.nbytes:
                while stream.frame < len(stream.sizes) and stream.sizes[stream.frame] == 0:
                    stream.frame += 1
                if stream.frame >= len(stream.frames):
                    raise Malformed(f"stream {stream.stream} carries more than the "
                                    f"{stream.total} bytes it declared")
                room = stream.sizes[stream.frame] - stream.at
                take = min(room, view.nbytes)
                stream.frames[stream.frame][stream.at:stream.at + take] = view[:take]
                stream.at += take
                stream.got += take
                view = view[take:]
                if stream.at == stream.sizes[stream.frame]:
                    stream.frame += 1
                    stream.at = 0

    def _sweep(self, now: float) -> None:
        for key in [k for k, s in self.streams.items()
                    if now - s.touched > STREAM_IDLE_SECONDS]:
            del self.streams[key]

    def pending(self) -> int:
        """Bytes held for streams not complete yet."""
        return sum(s.total for s in self.streams.values())
