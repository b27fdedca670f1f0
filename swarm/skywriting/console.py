"""`swarm sw`: an interactive Skywriting console against a cluster.

    sw> function fib(n) { if (n < 2) { return n; } return *spawn(fib, [n - 1]) + *spawn(fib, [n - 2]); }
    sw> f = spawn(fib, [10]);
    sw> *f
    55

Each entry (one or more statements; a line that leaves a brace or bracket open, or a
statement unfinished, asks for more with `...`; a final `;` may be left out) runs as a program
of its own on the cluster, started on its first node, printing where it was started. The
session's variables - values, functions, futures - live in one Ref on the cluster (where the
first entry started): an entry begins by reading them and ends by writing back every top-level
variable it has, so a later entry sees them wherever it runs, and a future made in one entry can
be forced in another. An entry that fails writes nothing back (its assignments are lost; the
session is as it was before). If the last statement is an expression other than a `print`, its
value is printed as JSON (nothing for null).
"""

from __future__ import annotations

import json
import os
import sys

from swarm.skywriting import SESSION, SkywritingError, error_text
from swarm.skywriting.syntax import parse

PROMPT, MORE = "sw> ", "... "


class Console:
    """The `swarm sw` console: each entry a program on the cluster, the session's variables
    in one Ref."""

    def __init__(self, cluster, echo: bool = True) -> None:
        self.cluster = cluster
        self.echo = echo  # print what entries print as it arrives (else: in outcome.stdout)
        self.session: list | None = None  # [Ref id, node] of the variables, once there are
        self.names: list[str] = []  # the session's variables
        self.entries = 0

    @staticmethod
    def complete(text: str) -> str | None:
        """The entry to run (with a missing final `;` added), or None while it is unfinished.
        A syntax error other than an early end is complete: running it reports it."""
        try:
            parse(text, "<console>")
            return text
        except SkywritingError as e:
            if "end of file" not in e.message:
                return text
        try:
            parse(text.rstrip() + ";", "<console>")
            return text.rstrip() + ";"
        except SkywritingError:
            return None

    def run(self, text: str) -> tuple[str | None, str | None, str]:
        """Run one entry: (its value as JSON text or None, its error or None, what it
        printed)."""
        self.entries += 1
        path = os.path.join(os.getcwd(), f"console-{self.entries}.sw")
        source = f"{text.rstrip()}\n{SESSION}{json.dumps(self.names)}\n"
        try:
            parse(text, path)  # syntax errors located in the entry as typed
            out = self.cluster.run_file(path, echo=self.echo, source=source,
                                        session=self.session)
        except SkywritingError as e:
            return None, _shorter(str(e)), ""
        if out.error:
            return None, _shorter(error_text(out.error)), out.stdout
        result = out.value
        self.session = result["session"]
        self.names = sorted(set(self.names) | set(result["names"]))
        return result["value"], None, out.stdout


def _shorter(message: str) -> str:
    return message.replace(os.getcwd() + os.sep, "")


def interact(console: Console, stdin=None, out=None, err=None) -> int:
    """Read entries until end of input; 0 if the last entry succeeded, else 1."""
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    tty = stdin.isatty()
    if tty:
        try:
            import readline  # noqa: F401 - line editing and history for input()
        except ImportError:
            pass
        print("Skywriting console: each entry runs on the cluster; Ctrl-D ends.", file=err)
    lines: list[str] = []
    status = 0
    while True:
        line = _read(stdin, MORE if lines else PROMPT, tty)
        if line is None:  # end of input: run what is pending (to report it)
            if lines and "".join(lines).strip():
                status = _run(console, "\n".join(lines), out, err)
            return status
        lines.append(line)
        text = "\n".join(lines)
        if not text.strip():
            lines = []
            continue
        entry = console.complete(text)
        if entry is None:
            continue
        lines = []
        status = _run(console, entry, out, err)


def _read(stdin, prompt: str, tty: bool) -> str | None:
    if tty:
        try:
            return input(prompt)
        except EOFError:
            print(file=sys.stderr)
            return None
    line = stdin.readline()
    return line.rstrip("\n") if line else None


def _run(console: Console, entry: str, out, err) -> int:
    value, error, _ = console.run(entry)
    if error:
        print(error, file=err)
        return 1
    if value is not None:
        print(value, file=out)
    out.flush()
    return 0
