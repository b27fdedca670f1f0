"""How a program's end looks in the terminal: the exit code and the traceback, as `python`
would show them.

    code, text = exit_of(outcome)   # (0, "") for success; SystemExit's code; 1 and a traceback

A node reports an uncaught exception as an error line ("ValueError: bad") and CPython's
traceback, formatted where it was raised. That traceback begins with the node's own frames
(the program's greenlet, the resume machinery) before the user's; `user_traceback` drops
them, so the user sees the frames of their own code (and of the libraries it called), as
under `python`.

`SystemExit` ends the program like `sys.exit` ends a process: no traceback; its code is the
exit code (None: 0; an int: itself; anything else is printed to stderr and the code is 1).
Nodes report it today as the error line "SystemExit: <str(code)>"; a result with an `exit`
field (the code itself, None or int or str) is taken as it is (phase 2 of issue 16).
"""

from __future__ import annotations

import re

#: files of the node and the continuation runtime (on any machine: the node's checkout may
#: be elsewhere than the client's), and of greenlet
_INTERNAL = re.compile(
    r"[/\\]swarm[/\\](node|continuation|compiler|wire|skywriting)[/\\][^/\\]+\.py$"
    r"|[/\\]swarm[/\\](runtime|refs|futures|collections|web|client|driver)\.py$"
    r"|[/\\]greenlet[/\\]|^<swarm task>$")
_FRAME = re.compile(r'^  File "(?P<file>[^"]*)", line \d+')

KEYBOARD_INTERRUPT_CODE = 130  # what a shell reports for a process ended by SIGINT


def user_traceback(text: str) -> str:
    """The traceback without the frames of swarm's own files. A chained traceback ("During
    handling of the above exception...") is filtered section by section; a section left with
    no frame loses its "Traceback (most recent call last):" line too, as Python prints an
    exception raised outside any frame.

    Discussion: a node's error while it moved the program (a node name not in the cluster,
    say) is raised while the program's Capture unwinds, so its traceback is the user's frames
    (under the Capture) chained to the node's own. The Capture section is folded into the
    error's: the user's frames, then the error, as if the operation itself had raised."""
    sections = _sections(text)
    out: list[str] = []
    carried: list[str] = []  # the user's frames of a Capture section, for the next one
    for chain, frames, error in sections:
        if error and error[0].startswith(_CAPTURE):
            carried = frames
            continue
        frames, carried = carried + frames, []
        if out or chain:
            out.extend(chain if out else [])
        if frames:
            out.append("Traceback (most recent call last):\n")
            out.extend(frames)
        out.extend(error)
    return "".join(out)


_CAPTURE = "swarm.continuation.capture.Capture"
_CHAINS = ("During handling of the above exception", "The above exception was the direct")


def _sections(text: str) -> list[tuple[list[str], list[str], list[str]]]:
    """(chain message lines, the user's frame lines, error lines) per exception of a
    traceback, in order."""
    sections: list[tuple[list[str], list[str], list[str]]] = []
    chain: list[str] = []
    frames: list[str] = []
    error: list[str] = []
    skipping = in_frames = False
    for line in text.splitlines(keepends=True):
        if line.startswith(_CHAINS):
            sections.append((chain, frames, error))
            chain, frames, error = ["\n", line, "\n"], [], []
            in_frames = False
            continue
        if line.startswith("Traceback (most recent call last):"):
            in_frames, skipping = True, False
            continue
        frame = _FRAME.match(line)
        if in_frames and frame:
            skipping = bool(_INTERNAL.search(frame.group("file")))
            if not skipping:
                frames.append(line)
            continue
        if in_frames and line.startswith("    "):
            if not skipping:
                frames.append(line)  # the frame's source line and carets
            continue
        in_frames = False
        if line.strip() or error:
            error.append(line)
    sections.append((chain, frames, error))
    # the blank lines around a chain message were kept as its own; drop trailing blanks
    for _, _, err in sections:
        while err and not err[-1].strip():
            err.pop()
    return [s for s in sections if s[1] or s[2]]


def system_exit_code(error: str | None, result: dict | None = None):
    """If the program ended with SystemExit: (True, its code), else (False, None). The code is
    the `exit` field of the result when the node sends one, else parsed from the error line
    "SystemExit: <str(code)>" (None, an int, or a message)."""
    if result is not None and "exit" in result:
        return True, result["exit"]
    if not error or not (error == "SystemExit" or error.startswith("SystemExit: ")):
        return False, None
    text = error[len("SystemExit: "):]
    if text in ("", "None"):
        return True, None
    if text in ("True", "False"):
        return True, text == "True"
    if re.fullmatch(r"-?\d+", text):
        return True, int(text)
    return True, text


def exit_status(code) -> tuple[int, str]:
    """What `python` does with a SystemExit code: (the process's exit status, the text it
    prints to stderr)."""
    if code is None:
        return 0, ""
    if isinstance(code, bool):
        return int(code), ""
    if isinstance(code, int):
        return code & 0xFF, ""
    return 1, f"{code}\n"


def exit_of(error: str | None, traceback: str = "", result: dict | None = None) -> tuple[int, str]:
    """The exit status of `swarm run` for a program's end, and what to print to stderr:
    0 and nothing for success; SystemExit as `python` treats it; 130 for KeyboardInterrupt;
    else 1 and the user's frames of the traceback (the error line alone if it has none)."""
    is_exit, code = system_exit_code(error, result)
    if is_exit:
        return exit_status(code)
    if not error:
        return 0, ""
    shown = user_traceback(traceback) if traceback else ""
    if not shown.strip():
        shown = error + "\n"
    status = KEYBOARD_INTERRUPT_CODE if error.split(":")[0] == "KeyboardInterrupt" else 1
    return status, shown
