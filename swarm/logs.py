"""Node logs, read where the nodes write them: `swarm logs [NODE] [-f]`.

A node started by `swarm up`, `swarm run` or `local_cluster` appends what it logs (warnings,
refusals, what `swarm place` moved, a program's prints made outside any program) to
`<name>.log` beside the cluster file, each line `time node LEVEL message`. These are read
here, on the machine of the cluster file; a node started by hand on another machine
(`swarm-node --config ... --name n2`) logs to its own stderr, wherever it was sent there, and
its log is not here: `NoLog` says so.
"""

from __future__ import annotations

import os
import time
from typing import Callable, TextIO

from swarm.node.config import ClusterConfig


class NoLog(LookupError):
    """A node whose log is not on this machine, or a name that is no node of the cluster."""


def log_path(config: ClusterConfig, name: str) -> str:
    """Where node `name` of a local cluster writes its log (it may not exist yet)."""
    if name not in config.nodes:
        raise NoLog(f"no node {name!r} in {config.path} (its nodes: "
                    f"{', '.join(config.names)})")
    return os.path.join(os.path.dirname(os.path.abspath(config.path)), f"{name}.log")


def existing_logs(config: ClusterConfig, names: list[str] | None = None) -> dict[str, str]:
    """The log files of these nodes (default: all) that are on this machine, by node;
    NoLog if none of them is."""
    found = {}
    for name in names or config.names:
        path = log_path(config, name)
        if os.path.exists(path):
            found[name] = path
    if not found:
        which = ", ".join(names or config.names)
        raise NoLog(f"no log of {which} beside {config.path}: a node started elsewhere "
                    f"(swarm-node on another machine) logs to its own stderr there")
    return found


def tail(path: str, lines: int | None = None) -> str:
    """The file's text, or its last `lines` lines."""
    with open(path, errors="replace") as f:
        text = f.read()
    if lines is None:
        return text
    kept = text.splitlines(keepends=True)
    return "".join(kept[-lines:]) if lines > 0 else ""


def show(config: ClusterConfig, names: list[str] | None, out: TextIO,
         lines: int | None = None, follow: bool = False,
         keep_going: Callable[[], bool] = lambda: True, poll: float = 0.2) -> None:
    """Write the logs of these nodes (default: all) to `out`: each file's text (its last
    `lines` lines), under a `==> n1.log <==` head when there are several, like `tail`. With
    `follow`, then every line appended to any of them, as it comes, until `keep_going()` is
    false (or KeyboardInterrupt); a log that is truncated is read again from its start."""
    files = existing_logs(config, names)
    several = len(files) > 1
    offsets: dict[str, int] = {}
    current = None
    for name, path in files.items():
        if several:
            out.write(f"{'' if current is None else chr(10)}==> {path} <==\n")
        current = name
        out.write(tail(path, lines))
        offsets[name] = os.path.getsize(path)
    out.flush()
    while follow and keep_going():
        for name, path in existing_logs(config, names).items():
            size = os.path.getsize(path)
            start = offsets.get(name, 0)
            if size < start:
                start = 0  # truncated (or a new file): from its start
            if size == start:
                continue
            with open(path, "rb") as f:
                f.seek(start)
                data = f.read()
            offsets[name] = start + len(data)
            text = data.decode(errors="replace")
            if several and name != current:
                out.write(f"\n==> {path} <==\n")
                current = name
            out.write(text)
            out.flush()
        time.sleep(poll)
