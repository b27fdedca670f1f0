"""A program's standard streams on a node: stdout and stderr go to its client, in program
order, while it runs; stdin comes from its client.

The node's sys.stdout, sys.stderr and sys.stdin are dispatchers (installed once, by the
shell): a write goes to the buffer of the program running now (the kernel knows which), a
read to that program's input; outside a program, to the node's own streams (its log).

Output. Each program has one buffer for both streams: a list of [stream, text] chunks, in the
order written. The buffer is sent as `output` messages (one per run of one stream), each with
the program's next sequence number - shared by stdout and stderr, carried across hops - so
that the client prints them in program order wherever they were written:

- when the program writes a newline or flushes, if nothing was sent for FLUSH_GAP (line
  buffering, with a bound on the number of messages a printing loop makes);
- when the kernel switches the program out (it parks, or has used its 10 ms slice: so text
  without a newline is at most a slice and a watchdog period late, well under 100 ms);
- before it hops, and when it ends.

Discussion: why not one message per line? A loop that prints 100,000 short lines would make
as many signed messages, each written to the node's store for `collect?`; coalescing what
one slice printed costs at most FLUSH_GAP of latency for a line.

Input. A read that finds the program's input empty asks its client (`input?`, numbered per
program) and parks until the answer (`input`: text, or end-of-file) comes; what was not read
travels with the program when it hops. A program without a client to ask - started with
`swarm run --detach`, or submitted from Python without stdin=True - reads end-of-file, and
is told once on its stderr why.

Bytes. `sys.stdout.buffer`, `sys.stderr.buffer` and `sys.stdin.buffer` are there, as under
`python`, for UTF-8: a program's streams carry text to its client, so bytes written are
decoded as UTF-8 (a character cut in two by two writes is joined; bytes that are not UTF-8
raise UnicodeDecodeError saying so, never reach the terminal changed), and bytes read are
the input's text encoded as UTF-8.
"""

from __future__ import annotations

import io
import time

from swarm.node.machine.events import InputWanted, ProgramPrinted

FLUSH_GAP = 0.01  # seconds: a line waits for the switch-out if output was sent this recently

#: why a program reads end-of-file at once (its submission's `stdin`), told once on its stderr
NO_STDIN = {
    "detached": "stdin: this program was started with --detach; it reads end-of-file",
    "none": "stdin: this program's client does not forward its input (Cluster.submit(..., "
            "stdin=True) does); it reads end-of-file",
}


def write(prog, stream: str, text: str) -> int:
    """Buffer `text` written to `stream` ("out" or "err") by the program (inside an atomic
    block: kept with the block, and written here when it commits - txnserve.ended)."""
    if prog.txn is not None:
        prog.txn.output.append((stream, text))
        return len(text)
    chunks = prog.chunks
    if chunks and chunks[-1][0] == stream:
        chunks[-1][1] += text
    else:
        chunks.append([stream, text])
    if "\n" in text:
        flush_soon(prog)
    return len(text)


def flush_soon(prog) -> None:
    """A newline or a flush(): send now, unless output was sent within FLUSH_GAP (then the
    switch-out sends it)."""
    if time.monotonic() - prog.flushed_at >= FLUSH_GAP:
        flush(prog)


def flush(prog) -> None:
    """Send everything the program has buffered (one `output` per run of one stream)."""
    chunks = prog.chunks
    if not chunks or prog.node is None:
        return
    prog.chunks = []
    prog.flushed_at = time.monotonic()
    emit = prog.node.emit
    # one message holds at most this many characters (UTF-8: up to 4 bytes each), so that
    # no output is over the cluster's max_message_bytes: longer text goes in several
    room = max(1024, (prog.node.config.max_message_bytes - (64 << 10)) // 4)
    for stream, text in chunks:
        for start in range(0, len(text), room):
            emit(ProgramPrinted(prog.id, prog.client, prog.seq, text[start:start + room],
                                stream))
            prog.seq += 1


def read_more(prog) -> bool:
    """More input for the program (appended to prog.stdin); False at end-of-file."""
    if prog.stdin_eof:
        return False
    why = NO_STDIN.get(prog.stdin_mode)
    if why is not None:
        prog.stdin_eof = True
        write(prog, "err", f"[swarm] {why}\n")
        return False
    flush(prog)  # the prompt first (input() flushes it, a bare read does not)
    node = prog.node
    prog.stdin_asked += 1
    key = f"stdin:{prog.id}:{prog.stdin_asked}"
    text, eof = node.kernel.wait_after(key, node.emit, InputWanted(
        prog.id, prog.client, prog.stdin_asked, key))
    prog.stdin += text
    if eof:
        prog.stdin_eof = True
    return bool(text) or not eof


def _running(kernel):
    """The program running now, or None (also while the interpreter shuts down, when
    greenlet can no longer tell)."""
    try:
        return kernel.current_context()
    except RuntimeError:
        return None


class ProgramOutput(io.TextIOBase):
    """sys.stdout or sys.stderr on a node: the running program's stream, else the node's."""

    def __init__(self, kernel, stream: str, fallback) -> None:
        self.kernel, self.stream, self.fallback = kernel, stream, fallback
        self.buffer = ProgramBinaryOutput(self)

    def write(self, s: str) -> int:
        prog = _running(self.kernel)
        if prog is None:
            return self.fallback.write(s)
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        return write(prog, self.stream, s)

    def flush(self) -> None:
        prog = _running(self.kernel)
        if prog is None:
            self.fallback.flush()
        else:
            flush_soon(prog)

    @property
    def encoding(self) -> str:
        return "utf-8"

    @property
    def errors(self) -> str:
        return "strict"

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        if _running(self.kernel) is None:
            return self.fallback.fileno()
        raise io.UnsupportedOperation(f"a program's std{self.stream} on a node has no file "
                                      f"descriptor (its text goes to its client)")


class ProgramBinaryOutput(io.BufferedIOBase):
    """sys.stdout.buffer or sys.stderr.buffer on a node: UTF-8 bytes, written to the text
    stream. The end of a character cut in two waits for the next write (on this node: a
    hop between the two halves makes the second half an error)."""

    def __init__(self, text: ProgramOutput) -> None:
        self.text = text
        self.partial: dict[str, bytes] = {}  # program id -> a character's first bytes

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        data = bytes(b)
        prog = _running(self.text.kernel)
        if prog is None:
            return self.text.fallback.buffer.write(data)
        whole = self.partial.pop(prog.id, b"") + data
        try:
            text = whole.decode("utf-8")
        except UnicodeDecodeError as e:
            if e.reason != "unexpected end of data" or len(whole) - e.start > 3:
                raise UnicodeDecodeError(
                    e.encoding, e.object, e.start, e.end,
                    f"{e.reason}: a program's std{self.text.stream} on the cluster carries "
                    f"UTF-8 text to its client, and these bytes are not (write binary data "
                    f"to a file, or keep it in a Ref)") from None
            text = whole[:e.start].decode("utf-8")
            self.partial[prog.id] = whole[e.start:]
        self.text.write(text)
        return len(data)

    def flush(self) -> None:
        self.text.flush()

    def fileno(self) -> int:
        return self.text.fileno()


class ProgramBinaryInput(io.BufferedIOBase):
    """sys.stdin.buffer on a node: the program's input as UTF-8 bytes. What a read leaves
    goes back to the program's input (where it travels with the program) - but for the
    rest of a character a read cut in two, kept for the next read of bytes on this node."""

    def __init__(self, text: ProgramInput) -> None:
        self.text = text
        self.left: dict[str, bytes] = {}  # program id -> the rest of a character cut in two

    def readable(self) -> bool:
        return True

    def _take(self, enough) -> bytes:
        prog = self.text._prog()
        data = self.left.pop(prog.id, b"")
        while not enough(data):
            if not prog.stdin and not read_more(prog):
                break
            data += prog.stdin.encode("utf-8")
            prog.stdin = ""
        return data

    def _give_back(self, data: bytes, cut: int) -> bytes:
        rest = data[cut:]
        if rest:
            prog = self.text._prog()
            skip = 0  # continuation bytes of a character the read cut in two
            while skip < len(rest) and rest[skip] & 0xC0 == 0x80:
                skip += 1
            if skip:
                self.left[prog.id] = rest[:skip]
            prog.stdin = rest[skip:].decode("utf-8") + prog.stdin
        return data[:cut]

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self._take(lambda data: False)
        return self._give_back(self._take(lambda data: len(data) >= size), size)

    read1 = read

    def readline(self, size: int | None = -1) -> bytes:
        limit = -1 if size is None else size
        data = self._take(lambda d: b"\n" in d or 0 <= limit <= len(d))
        end = data.find(b"\n") + 1 or len(data)
        if 0 <= limit < end:
            end = limit
        return self._give_back(data, end)

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def fileno(self) -> int:
        return self.text.fileno()


class ProgramInput(io.TextIOBase):
    """sys.stdin on a node: the running program's input, from its client."""

    def __init__(self, kernel, fallback) -> None:
        self.kernel, self.fallback = kernel, fallback
        self.buffer = ProgramBinaryInput(self)

    def _prog(self):
        prog = _running(self.kernel)
        if prog is None:
            raise io.UnsupportedOperation("the node's own stdin is not read")
        return prog

    def readable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return "utf-8"

    def fileno(self) -> int:
        raise io.UnsupportedOperation("a program's stdin on a node has no file descriptor "
                                      "(its text comes from its client)")

    def read(self, size: int | None = -1) -> str:
        prog = self._prog()
        if size is None or size < 0:
            while read_more(prog):
                pass
            text, prog.stdin = prog.stdin, ""
            return text
        while len(prog.stdin) < size and read_more(prog):
            pass
        text, prog.stdin = prog.stdin[:size], prog.stdin[size:]
        return text

    def readline(self, size: int | None = -1) -> str:
        prog = self._prog()
        while "\n" not in prog.stdin and (size is None or size < 0 or len(prog.stdin) < size):
            if not read_more(prog):
                break
        end = prog.stdin.find("\n") + 1 or len(prog.stdin)
        if size is not None and 0 <= size < end:
            end = size
        text, prog.stdin = prog.stdin[:end], prog.stdin[end:]
        return text

    def readlines(self, hint: int = -1) -> list[str]:
        lines = []
        while line := self.readline():
            lines.append(line)
            if 0 < hint <= sum(map(len, lines)):
                break
        return lines

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.readline()
        if not line:
            raise StopIteration
        return line
