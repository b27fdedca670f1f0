"""`swarm node add`: a node joins a running cluster (the nodes' side: swarm/node/members.py
and machine/fences.py `join`; docs/nodes.md, "Growing a cluster").

The steps, each safe to run again (`swarm node add NAME` again after a failure):

1. The cluster file gets the node, last in cluster order (a loopback endpoint on a free
   port and a directory beside the file's, unless given; CURVE keys if the cluster has
   them), and `ring`, the nodes whose names hash the homes of collections and named Refs,
   if it had none: the nodes before the join. Homes stay where they are.
2. The node starts (detached, as `swarm up` starts nodes), on its first start with a new
   store taken at once (`--fresh`: no copy of it can exist anywhere) and its mirror taken
   as down: the others do not know it yet. The command waits until it answers.
3. Every live node is told (`join`) and answers once the node is a member there: its links
   reach it, its gate takes its messages, the node before it keeps its copy there (a
   snapshot), tasks may be placed on it. Until then it holds no data: nothing is lost if the
   command stops half-way.
4. Data comes to it by placement: `swarm place` (or `--place` here) moves Refs to it
   until the bytes are balanced within the placer's bound (1.1x the mean by default).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import time

from swarm import asknodes
from swarm.errors import ClusterTimeout
from swarm.node.config import ClusterConfig, ConfigError, NodeConfig, free_port, name_problem
from swarm.wire import curve


def add_to_file(path: str, name: str | None = None, endpoint: str | None = None,
                directory: str | None = None) -> tuple[ClusterConfig, str, bool]:
    """Step 1: (the config, the node's name, whether it is new in the file). The file is
    locked meanwhile (two adds at once take two names)."""
    with locked(path):
        config = ClusterConfig.load(path)
        if name is None:  # (the first nK free)
            name = next(f"n{k}" for k in itertools.count(1) if f"n{k}" not in config.nodes)
        if name_problem(name):
            raise ConfigError(name_problem(name))
        twin = [n for n in config.nodes if n.lower() == name.lower() and n != name]
        if twin:  # (a directory named after it would be the same on some filesystems)
            raise ConfigError(f"{name}: the cluster has {twin[0]} already (names that differ "
                              f"only in case are refused)")
        if name in config.heirs:
            raise ConfigError(f"{name} was removed (swarm node remove: {config.heirs[name]} "
                              f"has its store), and its name means {config.heirs[name]}; "
                              f"add a node under another name")
        if name in config.fenced:
            raise ConfigError(f"{name} was declared gone (swarm node gone): a gone node does "
                              f"not come back; add it under another name")
        if name in config.nodes:
            spec = config.nodes[name]
            if endpoint is not None and endpoint != spec.endpoint:
                raise ConfigError(f"{name} is in {path} already, at {spec.endpoint}")
            return config, name, False
        endpoint = endpoint or f"tcp://127.0.0.1:{free_port()}"
        _check_endpoint(config, name, endpoint)
        base = os.path.dirname(os.path.abspath(path))
        spec = NodeConfig(name, endpoint, os.path.abspath(directory) if directory
                          else os.path.join(base, name))
        _check_dir(config, spec.dir)
        if config.curve:
            spec.public_key, spec.secret_key = curve.keypair()
        if config.ring is None:
            config.ring = config.names  # (the homes of what exists stay where they are)
        if config.replicas is None:  # (the default depends on how many nodes: fixed now,
            config.replicas = config.copies  # as the running nodes hold it)
        config.nodes[name] = spec
        config.save(path)
        return config, name, True


def _check_endpoint(config: ClusterConfig, name: str, endpoint: str) -> None:
    """A tcp://host:port no member has, and on loopback unless the cluster has CURVE keys
    (as the node itself checks at its start: swarm/node/shell.py)."""
    host, _, port = endpoint.removeprefix("tcp://").rpartition(":")
    if not endpoint.startswith("tcp://") or not host or not port.isdigit() or \
            not 0 < int(port) < 65536:
        raise ConfigError(f"endpoint {endpoint!r}: tcp://HOST:PORT, a port from 1 to 65535")
    if not config.curve and not curve.is_loopback(endpoint):
        raise ConfigError(f"endpoint {endpoint}: not on loopback, and {config.path} has no "
                          f"CURVE keys (`swarm keys --cluster {config.path}` adds them)")

    def same(other: str) -> bool:  # (loopback's names for one port are one endpoint)
        if other == endpoint:
            return True
        return curve.is_loopback(other) and curve.is_loopback(endpoint) and \
            other.rpartition(":")[2] == port
    taken = [n for n, spec in config.nodes.items() if same(spec.endpoint)]
    if taken:
        raise ConfigError(f"endpoint {endpoint} is {taken[0]}'s already")


def _check_dir(config: ClusterConfig, directory: str) -> None:
    """Not another member's directory (nor inside one, nor holding one), nor a store."""
    real = os.path.realpath(directory)
    for n, spec in config.nodes.items():
        other = os.path.realpath(spec.dir)
        if real == other or real.startswith(other + os.sep) or other.startswith(real + os.sep):
            raise ConfigError(f"directory {directory}: {n} keeps its store at {spec.dir}")
    if os.path.exists(os.path.join(real, "store.sqlite")):
        raise ConfigError(f"directory {directory} holds a store already (another node's?): "
                          f"a new node starts in a new directory")


@contextlib.contextmanager
def locked(path: str):
    with open(f"{path}.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def remove_from_file(path: str, name: str) -> None:
    """Undo step 1 (the node never became a member: no node was told)."""
    with locked(path):
        config = ClusterConfig.load(path)
        config.nodes.pop(name, None)
        config.save(path)


def start_args(new: bool) -> tuple:
    """The node's arguments for its start by this command: on its first start (it was new
    in the file), a new store at once and its mirror taken as down - no copy of it can
    exist, and the others do not know it yet. Otherwise none: it was a member already, and
    a store it lost comes back from its mirror."""
    return ("--fresh", "--without-mirror") if new else ()


def tell(cluster, name: str, timeout: float = 60.0) -> list[str]:
    """Step 3: every live node but `name` is told until it answers; the nodes told.
    ClusterTimeout if one does not answer in `timeout` (the node is in the file: a node
    started again reads it there; run the command again), ValueError if one refuses."""
    config = cluster.config
    spec = config.nodes[name]
    others = [n for n in config.names if n != name and n not in config.fenced]
    fields = {"node": name, "endpoint": spec.endpoint, "members": config.names}
    if spec.public_key:
        fields["public_key"] = spec.public_key
    try:
        asknodes.until_all_answer(
            cluster, others, "join", fields, "joined", timeout, f"the join of {name}",
            accept=lambda p: p["node"] == name,
            refused=lambda n, p: ValueError(f"{n} refused the join of {name}: {p['error']}")
            if p.get("error") else None)
    except ClusterTimeout as e:
        raise ClusterTimeout(f"{e}: start them (they read {name} in {config.path}) or run "
                             f"the command again") from None
    return others


def _wait_answer(cluster, name: str, timeout: float, started=None) -> bool:
    """Until the node answers (True), `timeout` passes or the process `started` exited."""
    deadline = time.monotonic() + timeout
    while name not in cluster.ping([name], timeout=1.0):
        if time.monotonic() > deadline or (started is not None and started.poll() is not None):
            return False
    return True


def add(path: str, name: str | None = None, endpoint: str | None = None,
        directory: str | None = None, start: bool = True, timeout: float = 60.0,
        say=print, say_place: bool = True) -> str:
    """`swarm node add`: steps 1-3 (placement is the caller's); the node's name. `start`:
    start it here, detached, unless it answers already (else wait for it to be started
    elsewhere: `say` tells how). A node new in the file is started before the others are
    told; one that was in it already (the command run again) after. Raises ConfigError,
    ClusterTimeout, ValueError (a node refused)."""
    from swarm import localcluster
    from swarm.client import Cluster
    from swarm.embedded import start_nodes

    members = ClusterConfig.load(path)
    under_way = [n for n in members.heirs if n not in members.fenced]
    if under_way:  # (a join would change the mirror of the node leaving: its heir)
        raise ConfigError(f"the removal of {under_way[0]} is under way: `swarm node remove "
                          f"{under_way[0]}` again finishes it first")
    probe = Cluster(members)
    try:  # (a cluster that is not running: nothing to join, and the file stays as it is)
        if not probe.ping([n for n in members.names if n not in members.fenced],
                          timeout=2.0):
            raise ClusterTimeout(f"no node of {path} answers: the cluster is not running "
                                 f"(`swarm up` starts it)")
    finally:
        probe.close()
    config, name, new = add_to_file(path, name, endpoint, directory)
    say(f"{name} is in {path}" + (" (added)" if new else " already") +
        f": {config.nodes[name].endpoint}, store in {config.nodes[name].dir}")
    cluster = Cluster(config)
    try:
        if not new:
            tell(cluster, name, timeout)
        proc = None
        if start and not localcluster.node_pid(config, name) and \
                name not in cluster.ping([name], timeout=1.0):
            proc = start_nodes(config, [name], detached=True, args=start_args(new))[name]
            with open(localcluster.pid_file(config, name), "w") as f:
                f.write(f"{proc.pid}\n")
        elif not start:
            say(f"start it on its machine, with this cluster file copied there (and to every "
                f"node's machine): swarm-node --config FILE --name {name} "
                f"{' '.join(start_args(new))}".rstrip())
        if not _wait_answer(cluster, name, timeout, proc):
            if proc is not None:
                proc.kill()
            if new:  # (no other node was told: as if it had never been added)
                remove_from_file(path, name)
            raise ClusterTimeout(
                (f"{name} exited at start:\n{localcluster.tail(config, name)}\n"
                 if proc is not None and proc.poll() is not None else
                 f"{name} did not answer in {timeout:g}s") +
                (f": no other node was told, and {name} is out of {path} again" if new else ""))
        told = tell(cluster, name, timeout)
    finally:
        cluster.close()
    say(f"{name} joined: {', '.join(told)} know it" + (
        "" if not new or not say_place else "; it holds no data until placement moves some "
                                            "there (swarm place --rebalance)"))
    return name


def add_local(cluster, name: str | None = None, timeout: float = 60.0) -> str:
    """add_local: steps 1-3 for a cluster this process started (the node is
    its child, stopped with the others); the node's name."""
    from swarm.embedded import start_nodes

    config, name, new = add_to_file(cluster.config.path, name)
    cluster.config.ring, cluster.config.replicas = config.ring, config.replicas
    cluster.config.nodes[name] = config.nodes[name]
    if not new:
        tell(cluster, name, timeout)
    cluster.procs.update(start_nodes(cluster.config, [name], args=start_args(new)))
    cluster._mark()
    if not _wait_answer(cluster, name, timeout, cluster.procs[name]):
        raise ClusterTimeout(f"{name} did not start (see {name}.log beside "
                             f"{cluster.config.path})")
    tell(cluster, name, timeout)
    return name
