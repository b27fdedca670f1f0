"""What a client sends its programs besides the submission itself: their stdin, as they ask
for it (StdinForwarder), and their sources only to the nodes that lack them (KeptSources).

A program on a node that reads stdin and has nothing left asks its client (`input?` {program,
n}); the client reads what its stdin has - a line from a terminal, a chunk from a pipe or a
file, nothing at end-of-file - without blocking anything else it does (the descriptor is
polled with the cluster's sockets), and answers (`input` {program, n, text, eof}). Programs
that ask are served in the order they asked, as processes sharing one terminal would be.

The input travels as text: bytes that are not text in this process's stdin encoding (binary
data piped in) are replaced by U+FFFD, and the client says so once on its stderr - never a
silent change.

A node keeps every source it was sent, by hash, in its store (a restart keeps them). Once it
has accepted a submission, its client names those sources by hash (`kept`) in later
submissions instead of sending their text: a web request's submit is then a few hundred bytes,
not the app's modules. A node that does not have one after all (its store was lost, or it is
a new node of that name) does not take the submission: it answers `sources?` with the hashes
it lacks, and the client sends the submission again with their text.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections import deque

READ_BYTES = 65536
REPLACED_NOTE = ("[swarm] stdin: bytes that are not {encoding} text were replaced by U+FFFD "
                 "(a program's stdin on the cluster carries text: pass binary data in a file "
                 "or a Ref)")


def _replace_and_count(error: UnicodeDecodeError) -> tuple[str, int]:
    _replace_and_count.count += 1
    return "\ufffd", error.end


_replace_and_count.count = 0
codecs.register_error("swarm.stdin", _replace_and_count)


class StdinForwarder:
    """Answers `input?` from one file descriptor (the client's stdin)."""

    def __init__(self, fd: int | None = None) -> None:
        self.eof = False
        if fd is None:
            try:
                fd = sys.stdin.fileno()
            except (AttributeError, OSError, ValueError):  # no stdin (closed: `<&-`)
                fd, self.eof = -1, True  # the programs read end-of-file, as from /dev/null
        self.fd = fd
        self.encoding = getattr(sys.stdin, "encoding", None) or "utf-8"
        self.decoder = codecs.getincrementaldecoder(self.encoding)(errors="swarm.stdin")
        self.told = False  # the note about replaced bytes was printed
        self.asked: deque = deque()  # (node, program, n) waiting for text, in order

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
        replaced = _replace_and_count.count
        text = self.decoder.decode(data, final=not data)
        if _replace_and_count.count != replaced and not self.told:
            self.told = True
            print(REPLACED_NOTE.format(encoding=self.encoding), file=sys.stderr, flush=True)
        if data and not text:
            return  # part of a character: the rest comes with the next read
        if not data:
            self.eof = True
        node, program, n = self.asked.popleft()
        send(node, "input", {"program": program, "n": n, "text": text, "eof": self.eof})
        while self.eof and self.asked:
            node, program, n = self.asked.popleft()
            send(node, "input", {"program": program, "n": n, "text": "", "eof": True})


class KeptSources:
    """Which sources each node has confirmed keeping (by hash), and the submissions trimmed
    to what a node lacks."""

    def __init__(self) -> None:
        self.by_node: dict[str, set[str]] = {}

    def submission_for(self, node: str, submission: dict) -> dict:
        """The submission as `node` needs it: the sources it keeps named in `kept`, not
        sent."""
        kept = self.by_node.get(node)
        sources = submission["sources"]
        named = [h for h in sources if h in kept] if kept else None
        if not named:
            return submission
        return dict(submission, kept=named,
                    sources={h: s for h, s in sources.items() if h not in kept})

    def learn(self, node: str, hashes) -> None:
        """`node` accepted a submission of these sources: it keeps them."""
        self.by_node.setdefault(node, set()).update(hashes)

    def forget(self, node: str, hashes: list[str]) -> bool:
        """`node` says it lacks these (`sources?`); False if none was thought kept (a
        submission with their text went already)."""
        kept = self.by_node.get(node, set())
        known = kept.intersection(hashes)
        kept.difference_update(known)
        return bool(known)
