"""The directories of temporary clusters (`swarm.local_cluster(n)`, `swarm run` without a
cluster), and removing those that were left behind.

A temporary cluster keeps its cluster file, its nodes' stores and logs in a directory of its
own under the system's temporary directory (/tmp/swarm-XXXXXXXX), removed when it shuts
down. A process that is SIGKILLed cannot remove it (its nodes stop by themselves: they watch
SWARM_PARENT_PID). So the directory holds a marker, OWNER_FILE: the pid and start time of the
process that made it and of each of its nodes; when the next temporary cluster starts, it
removes the directories whose marker names processes that are all gone.

Discussion: only what is provably ours and dead is removed - a directory named swarm-*,
owned by this user, with a marker that parses, whose every process is gone: no process has
that pid, or the one that has it started at another time (the pid was reused; Linux's
/proc/PID/stat says when a process started). Where there is no /proc (macOS), a pid that is
alive keeps the directory, whoever has the pid now. A directory without a marker (one made by
an older swarm, or by something else) is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile

PREFIX = "swarm-"
OWNER_FILE = ".swarm-temporary"


def start_time(pid: int) -> int | None:
    """When the process started (clock ticks since boot, /proc/PID/stat's 22nd field), or
    None where that cannot be known (no such process, no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (2nd field) may hold spaces and parentheses: count after its end
    return int(stat[stat.rindex(b")") + 2:].split()[19])


def _gone(pid: int, started: int | None) -> bool:
    """Is the process (pid, start time when it was written down) gone?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, someone else's: the start time decides
    now = start_time(pid)
    return started is not None and now is not None and now != started


def mark(directory: str, node_pids: list[int]) -> None:
    """Write (again) who a temporary cluster directory's processes are: this one, and its
    nodes (at their start, and when one is restarted)."""
    owners = [[pid, start_time(pid)] for pid in [os.getpid(), *node_pids]]
    path = os.path.join(directory, OWNER_FILE)
    with open(path + ".new", "w") as f:
        json.dump({"processes": owners}, f)
    os.replace(path + ".new", path)


def remove_leftovers(root: str | None = None) -> list[str]:
    """Remove the temporary cluster directories under `root` (default: the system's
    temporary directory) whose processes are all gone; return their paths."""
    root = root or tempfile.gettempdir()
    removed = []
    with contextlib.suppress(OSError), os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith(PREFIX) and _left_behind(entry):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.path)
    return removed


def _left_behind(entry: os.DirEntry) -> bool:
    try:
        if not entry.is_dir(follow_symlinks=False) or entry.stat().st_uid != os.getuid():
            return False
        with open(os.path.join(entry.path, OWNER_FILE)) as f:
            owners = json.load(f)["processes"]
        return bool(owners) and all(_gone(int(pid), started) for pid, started in owners)
    except (OSError, ValueError, KeyError, TypeError):
        return False  # no marker, or not ours to read: not provably ours
