"""The peers' interpreters: a venv per peer, made by the bench the first time it needs one.

`make bench` compares Swarm with what a user would pick instead - Ray, Dask, Flask on
gunicorn with SQLite or Redis - each installed the way its users install it (`pip install
ray`), in a venv of its own, never in swarm's: they are benchmark-only. A venv lives in
`$SWARM_BENCH_VENVS` (default `~/.cache/swarm-bench`), named by the peer and a hash of what
it installs, so it is made once per machine and shared by every clone; a change of the list
makes a new one. Made by `python -m venv` from the interpreter running the bench (CPython
3.11, as swarm's), then `pip install` from the package index.

    python -m bench.peers            # make every peer's venv now (a few minutes), print them

Redis's server is Debian's `redis-server` (`redis_server()`): installed with apt-get if it is
missing and the machine has apt (as root, or with sudo); the bench starts and stops its own
instance on a free port of 127.0.0.1, with no disk persistence.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

#: what each peer's venv installs (pip requirement strings)
PEERS: dict[str, tuple[str, ...]] = {
    "ray": ("ray==2.60.0", "numpy"),
    "dask": ("dask[distributed]==2026.8.0", "numpy"),
    "web": ("flask==3.1.3", "gunicorn==27.0.1", "redis==8.1.0"),
}

ROOT = Path(os.environ.get("SWARM_BENCH_VENVS") or Path.home() / ".cache" / "swarm-bench")
PIP_TIMEOUT = 1800  # seconds for one venv's install (Ray is some 70 MB of wheels)


def venv_dir(peer: str) -> Path:
    spec = "\n".join(PEERS[peer])
    return ROOT / f"{peer}-{hashlib.sha256(spec.encode()).hexdigest()[:10]}"


def peer_python(peer: str, make: bool = True) -> tuple[str | None, str]:
    """(the interpreter of `peer`'s venv, "") once it is made - making it now unless `make`
    is false - or (None, why not)."""
    where = venv_dir(peer)
    python = where / "bin" / "python"
    if (where / ".installed").exists():
        return str(python), ""
    if not make:
        return None, f"its venv {where} is not made (python -m bench.peers makes it)"
    shutil.rmtree(where, ignore_errors=True)
    where.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", None) or sys.executable
    print(f"  making the {peer} venv: {where} ({', '.join(PEERS[peer])})", flush=True)
    steps = ([base, "-m", "venv", str(where)],
             [str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"],
             [str(python), "-m", "pip", "install", "-q", *PEERS[peer]])
    for step in steps:
        try:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=PIP_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{' '.join(step[:4])}: {type(exc).__name__}: {exc}"
        if proc.returncode:
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            return None, f"{' '.join(step[:5])} exited {proc.returncode}: {tail}"
    (where / ".installed").write_text("\n".join(PEERS[peer]) + "\n")
    return str(python), ""


def redis_server(install: bool = True) -> tuple[str | None, str]:
    """The path of Debian's redis-server, installing the package if need be (and `install`);
    or why not."""
    found = shutil.which("redis-server")
    if found:
        return found, ""
    if not install:
        return None, "redis-server is not installed (python -m bench.peers installs it)"
    if not shutil.which("apt-get"):
        return None, "redis-server is not installed and this machine has no apt-get"
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "redis-server"]):
        try:
            proc = subprocess.run(sudo + step, capture_output=True, text=True, env=env,
                                  timeout=PIP_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{' '.join(step)}: {type(exc).__name__}: {exc}"
        if proc.returncode:
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
            return None, f"{' '.join(sudo + step)} exited {proc.returncode}: {tail}"
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    return (found, "") if found else (None, "apt-get installed redis-server but it is not on PATH")


def main() -> int:
    bad = 0
    for peer in PEERS:
        python, why = peer_python(peer)
        print(f"{peer}: {python or 'not made: ' + why}")
        bad += python is None
    server, why = redis_server()
    print(f"redis-server: {server or 'absent: ' + why}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
