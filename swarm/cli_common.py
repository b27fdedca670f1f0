"""What the `swarm` commands share: finding the cluster a command names, and connecting.

`--cluster FILE` names a cluster file, `--dir D` the directory of one (D/cluster.toml);
without either, ./.swarm/cluster.toml if it exists (swarm up's default).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time


def cluster_path(args) -> str | None:
    """The cluster file the command names: --cluster FILE, --dir D, or ./.swarm's if any."""
    from swarm.localcluster import DEFAULT_DIR, cluster_file

    if args.cluster:
        return args.cluster
    if args.dir:
        return cluster_file(args.dir)
    default = cluster_file(DEFAULT_DIR)
    return default if os.path.exists(default) else None


def cluster_file_named(args, command: str) -> str | None:
    """The cluster file the command names, if it exists; else None, after saying so."""
    path = cluster_path(args)
    if path is None or not os.path.exists(path):
        print(f"swarm {command}: no cluster file {path or '.swarm/cluster.toml'}: give "
              f"--cluster FILE or --dir D (`swarm up` starts a local cluster)", file=sys.stderr)
        return None
    return path


def connect_to(path: str):
    """A client of a running cluster, or None after saying why there is none."""
    from swarm.client import ClusterTimeout, connect

    if not os.path.exists(path):
        print(f"swarm: no cluster file {path} (`swarm up` starts a local cluster)",
              file=sys.stderr)
        return None
    try:
        return connect(path, timeout=10.0)
    except ClusterTimeout as e:
        print(f"swarm: the cluster of {path} is not running: {e} (`swarm up --dir "
              f"{os.path.dirname(path) or '.'}` starts it)", file=sys.stderr)
        return None


CONNECT_SECONDS = 10.0  # how long a command waits for the nodes it needs to answer
OTHERS_SECONDS = 1.0  # swarm run: how long the other nodes have, to be named if silent


def connect_to_start(path: str, command: str, node: str | None):
    """A client of a running cluster for `swarm run` and `swarm sw`, or None after saying
    why there is none: the node the program starts on (`node`, default the first not
    declared gone) must answer within CONNECT_SECONDS; each other node that does not answer
    is named on stderr, and the program runs (if it needs such a node, it waits for it, and
    says so)."""
    from swarm import asknodes
    from swarm.client import Cluster
    from swarm.node.config import ClusterConfig

    if not os.path.exists(path):
        print(f"swarm: no cluster file {path} (`swarm up` starts a local cluster)",
              file=sys.stderr)
        return None
    cluster = Cluster(ClusterConfig.load(path))
    live = asknodes.live_nodes(cluster)
    start = node if node in live else (live or cluster.config.names)[0]
    deadline, answered = time.monotonic() + CONNECT_SECONDS, False
    while not answered and time.monotonic() < deadline:
        answered = bool(cluster.ping([start]))  # (each waits up to half a second)
    if not answered:
        cluster.close()
        print(f"swarm {command}: {start}, where the program starts, did not answer within "
              f"{CONNECT_SECONDS:g} s (down, or unreachable from here): nothing was started "
              f"(`--node NAME` starts it on another node; `swarm up --dir "
              f"{os.path.dirname(path) or '.'}` starts the nodes of a cluster of swarm up)",
              file=sys.stderr)
        return None
    others = [name for name in live if name != start]
    answered = cluster.ping(others, timeout=OTHERS_SECONDS) if others else set()
    say_silent(command, [name for name in others if name not in answered], OTHERS_SECONDS,
               "if the program needs it, it waits for it")
    return cluster


def running_cluster(args, command: str):
    """A client of the running cluster that `swarm COMMAND` names, or None after saying why
    there is none."""
    path = cluster_path(args)
    if path is None:
        print(f"swarm {command}: no running cluster (give --cluster FILE or --dir D)",
              file=sys.stderr)
        return None
    return connect_to(path)


def client_of(args, command: str):
    """A client of the cluster that `swarm COMMAND` names, which does not wait for every
    node to answer (ps, cancel, result show what the live nodes say, and name the others:
    say_silent); None after saying why there is none (no cluster file)."""
    from swarm.client import Cluster
    from swarm.node.config import ClusterConfig

    if (path := cluster_file_named(args, command)) is None:
        return None
    return Cluster(ClusterConfig.load(path))


def say_silent(command: str, silent: list[str], seconds: float | None, what: str) -> None:
    """One line on stderr per node that did not answer (within `seconds`): `what` says what
    that leaves out."""
    within = "" if seconds is None else f" within {seconds:g} s"
    for name in silent:
        print(f"swarm {command}: {name} did not answer{within} (down, or unreachable from "
              f"here): {what}", file=sys.stderr)


def not_running(command: str, path: str, why: object) -> None:
    """No node of the cluster answered: say so, and how to start it."""
    print(f"swarm {command}: the cluster of {path} is not running: {why} (`swarm up --dir "
          f"{os.path.dirname(path) or '.'}` starts it)", file=sys.stderr)


@contextlib.contextmanager
def cluster_for(args):
    """The cluster of `swarm run` and `swarm sw`: N temporary local nodes (--nodes N, or no
    cluster named or found), stopped at the end; else the running cluster of --cluster, --dir
    or ./.swarm (connect_to_start); None (after saying why) if that one is not running."""
    from swarm.embedded import local_cluster

    path = None if args.nodes else cluster_path(args)
    if path is None:
        cluster = local_cluster(args.nodes or 3)
    elif (cluster := connect_to_start(path, args.command,
                                      getattr(args, "node", None))) is None:
        yield None
        return
    try:
        yield cluster
    finally:
        if path:
            cluster.close()
        else:
            cluster.shutdown()
