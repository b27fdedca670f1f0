"""A client's side of its programs' stdin: what its own stdin gives, sent to the program that
asks for it.

A program on a node that reads stdin and has nothing left asks its client (`input?` {program,
n}); the client reads what its stdin has - a line from a terminal, a chunk from a pipe or a
file, nothing at end-of-file - without blocking anything else it does (the descriptor is
polled with the cluster's sockets), and answers (`input` {program, n, text, eof}). Programs
that ask are served in the order they asked, as processes sharing one terminal would be.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections import deque

READ_BYTES = 65536


class StdinForwarder:
    """Answers `input?` from one file descriptor (the client's stdin)."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        encoding = getattr(sys.stdin, "encoding", None) or "utf-8"
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self.asked: deque = deque()  # (node, program, n) waiting for text, in order
        self.eof = False

    def wanted(self, node: str, program: str, n: int, send) -> None:
        """A program asks; `send(node, kind, payload)` answers (at once after end-of-file)."""
        if self.eof:
            send(node, "input", {"program": program, "n": n, "text": "", "eof": True})
        else:
            self.asked.append((node, program, n))

    def waiting(self) -> bool:
        return bool(self.asked)

    def readable(self, send) -> None:
        """The descriptor has something (or its end): answer the first program that asked
        (all of them at end-of-file)."""
        try:
            data = os.read(self.fd, READ_BYTES)
        except BlockingIOError:
            return
        except OSError:  # closed, or not readable: end-of-file for the programs
            data = b""
        text = self.decoder.decode(data, final=not data)
        if data and not text:
            return  # part of a character: the rest comes with the next read
        if not data:
            self.eof = True
        node, program, n = self.asked.popleft()
        send(node, "input", {"program": program, "n": n, "text": text, "eof": self.eof})
        while self.eof and self.asked:
            node, program, n = self.asked.popleft()
            send(node, "input", {"program": program, "n": n, "text": "", "eof": True})
