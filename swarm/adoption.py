"""`swarm node remove NAME`: a node leaves the running cluster and loses nothing - its mirror,
the *heir*, takes its store (the nodes' side: machine/fences.py, a fence with an heir, and
swarm/node/adopt.py; docs/nodes.md, "Removing a node").

The steps, each safe to run again (`swarm node remove NAME` again after a failure goes on
where it stopped):

0. Checks: copies are on (`replicas = 2`), the heir answers, and the node's copy is whole -
   its mirror live and no write counted on its disk alone (`exposed`). A node that does not
   answer is refused unless `force` (its copy may lack what it wrote while its mirror was
   down: those writes are then lost).
1. The node leaves (`leave`): it takes no new program or hop - they wait, and go to the heir
   at step 5 - and the programs on it end or move on, and its copy gets every write, for up
   to `timeout` (else refused, and it takes programs again - unless `force`).
2. The cluster file names the heir (`heirs`): the node will not start again from it, and a
   node that starts meanwhile knows the removal is under way.
3. Every live node fences it with the heir (phase 1), until each has written it: nothing is
   sent to it from then on - what is meant for it is held, not failed - and of what it sends
   only its answers to questions asked before and its last records to the heir are taken.
   Then it stops (`stop`: every write under way done; SIGKILL after `timeout` if it was
   started from this directory).
4. The heir adopts its store (`adopt`): it merges its copy into its own store and starts
   again from it, as after a crash.
5. Every live node routes the node's name to the heir (phase 2): what was held goes there.
6. The cluster file lists the node in `fenced`: clients route its name to the heir too.
Then `--place` spreads what the heir took (swarm place --rebalance).

`failover` (the heir's name): run by the heir itself (machine/failover.py: the node was
silent for `failover` seconds and a majority of the nodes agreed, each promising to refuse
it meanwhile): steps 0 and 1 are skipped (the node is silent), the command gives up if the
node answers a ping before step 3 or the file names another heir, and step 3's stop is one
ping unanswered (a process of the node left on this host - paused - is killed).
"""

from __future__ import annotations

import time

from swarm import asknodes, localcluster
from swarm.errors import ClusterTimeout
from swarm.fencing import reload_fences
from swarm.membership import locked
from swarm.node.config import ClusterConfig, ConfigError

WHOLE_SECONDS = 0.5  # how often the node's copy is looked at while it is not whole


def heir_of(config: ClusterConfig, name: str) -> str:
    """The node that takes `name`'s store: the one the file names, else its mirror."""
    if name not in config.nodes:
        live = [n for n in config.names if n not in config.fenced]
        raise ConfigError(f"unknown node {name!r}; the cluster has {', '.join(live)}")
    if name in config.fenced:
        raise ConfigError(f"{name} was removed or declared gone already")
    if name in config.heirs:
        return config.heirs[name]
    left = [n for n in config.names if n != name and n not in config.fenced]
    if len(left) < 2 and name not in config.heirs:
        raise ConfigError(f"removing {name} leaves {', '.join(left) or 'no node'} alone: no "
                          f"copy of its store would be kept (add a node first: swarm node add)")
    under_way = [n for n in config.heirs if n not in config.fenced]
    if under_way:  # (one at a time: its heir may be the node asked for, or its mirror)
        raise ConfigError(f"the removal of {under_way[0]} is under way: `swarm node remove "
                          f"{under_way[0]}` again finishes it first")
    if config.copies < 2:
        raise ConfigError(f"{config.path} has replicas = 1: no node keeps a copy of {name}'s "
                          f"store to take it over (`replicas = 2` in the file and a restart "
                          f"of the nodes make copies)")
    heir = config.mirror_of(name)
    if heir is None or heir == name:
        raise ConfigError(f"{name} has no mirror to take its store (one node left?)")
    return heir


def _wait_whole(cluster, name: str, heir: str, timeout: float, force: bool, say) -> bool:
    """Step 0: until the node's copy on the heir holds every write it counted. False: the
    node does not answer (taken as it is: `force`)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = asknodes.ask(cluster, [name], "status?", {}, "status", 2.0)
        if name not in rows:
            if force:
                say(f"{name} does not answer: its copy on {heir} is taken as it is (--force); "
                    f"if its process still runs somewhere (paused, cut off), stop it there - "
                    f"every node refuses it from now on")
                return False
            raise ClusterTimeout(
                f"{name} does not answer: if it is gone for good, `swarm node remove {name} "
                f"--force` has {heir} take its copy - what {name} wrote while its mirror was "
                f"down, if anything, is lost; else start it and run this again")
        mirror = rows[name].get("mirror", {})
        if mirror.get("node") == heir and mirror.get("state") == "live" and \
                not mirror.get("exposed"):
            return True
        if time.monotonic() > deadline:
            raise ClusterTimeout(f"{name}'s copy on {heir} is not whole after {timeout:g}s "
                                 f"(its mirror: {mirror}): writes it counted alone would be "
                                 f"lost; run this again once `swarm status` shows {heir} in "
                                 f"its copy column")
        time.sleep(WHOLE_SECONDS)


def _drain(cluster, name: str, heir: str, timeout: float, force: bool, say) -> None:
    """Step 2, first: the node takes no new program or hop (they wait for the heir), and the
    programs on it end or move on, and its copy on the heir gets every write it counted -
    until both hold, or `timeout`. A program still there then would run again on the heir
    from its last hop, as after a restart - and where it went to the heir before, it would
    now stay there and do that part twice: refused unless `force`. The node, back to
    taking programs, stays in the cluster."""
    deadline = time.monotonic() + timeout
    left = None
    while True:
        answer = asknodes.ask(cluster, [name], "leave", {}, "leaving", 1.0).get(name)
        if answer is None:  # (stopped already: a command run again)
            return
        left = answer
        if not answer["count"] and _whole(cluster, name, heir):
            return
        if time.monotonic() > deadline:
            break
        time.sleep(WHOLE_SECONDS)
    if force:
        say(f"{left['count']} programs still on {name} after {timeout:g} s (first: "
            f"{', '.join(left['here'][:5])}): they run again on {heir} from their last hop "
            f"(--force)")
        return
    asknodes.ask(cluster, [name], "stay", {}, "leaving", 1.0)
    raise ClusterTimeout(
        f"{left['count']} programs stayed on {name} for {timeout:g} s (first: "
        f"{', '.join(left['here'][:5])})" if left["count"] else
        f"{name}'s copy on {heir} did not get its last writes in {timeout:g} s")


def _whole(cluster, name: str, heir: str) -> bool:
    rows = asknodes.ask(cluster, [name], "status?", {}, "status", 2.0)
    mirror = rows.get(name, {}).get("mirror", {})
    return mirror.get("node") == heir and mirror.get("state") == "live" and \
        mirror.get("seq") == mirror.get("have") and not mirror.get("exposed")


def _copied(cluster, name: str, heir: str, timeout: float, force: bool) -> None:
    """Step 3, before the stop: nothing reaches the node any more, but it may still have
    answered a question asked before - until its copy on the heir has every write it made
    (`timeout`; a node that does not answer: as it is, with `force`)."""
    deadline = time.monotonic() + timeout
    while not _whole(cluster, name, heir):
        if not asknodes.ask(cluster, [name], "leave", {}, "leaving", 1.0) and force:
            return
        if time.monotonic() > deadline:
            raise ClusterTimeout(f"{name}'s copy on {heir} did not get its last writes in "
                                 f"{timeout:g}s")
        time.sleep(WHOLE_SECONDS)


def _stop(cluster, config: ClusterConfig, name: str, timeout: float,
          failover: bool = False) -> None:
    """Step 2: `stop`, until the node has not answered three times running (once with
    `failover`; and its process, if started here, is gone: killed after `timeout`, at once
    with `failover`)."""
    deadline = time.monotonic() + (0 if failover else timeout)
    pid, silent = localcluster.node_pid(config, name), 0
    while silent < (1 if failover else 3) or localcluster.node_pid(config, name):
        cluster.send(name, "stop", {})
        silent = silent + 1 if failover or name not in cluster.ping([name], timeout=0.5) \
            else 0  # (failover: it was silent just before the fence)
        if silent >= (1 if failover else 3) and not localcluster.node_pid(config, name):
            return
        if time.monotonic() > deadline:
            if pid is not None and localcluster.node_pid(config, name):
                localcluster.kill(config, name, pid)
                continue
            raise ClusterTimeout(f"{name} still answers after {timeout:g}s: stop it where it "
                                 f"runs, then run this again")


def _in_file(path: str, change, auto: bool, say) -> None:
    """Change the cluster file (under its lock). One that cannot be written (a read-only
    /etc under systemd's ProtectSystem): an OSError - or, for a failover, a warning: the
    nodes keep the removal in their stores; the file is the operator's to update."""
    try:
        with locked(path):
            config = ClusterConfig.load(path)
            change(config)
            config.save(path)
    except OSError as e:
        if not auto:
            raise
        say(f"warning: {path} could not be written ({e}): the nodes know of the removal; "
            f"write it in the file by hand (`heirs`, `fenced`) and copy it to every machine")


def remove(path: str, name: str, timeout: float = 60.0, force: bool = False,
           say=print, failover: str | None = None) -> str:
    """`swarm node remove NAME`: steps 0-6; the heir's name. Raises ConfigError,
    ClusterTimeout, ValueError (a node refused)."""
    from swarm.client import Cluster

    config = ClusterConfig.load(path)
    heir = heir_of(config, name)
    auto = failover is not None
    if auto and heir != failover:
        raise ValueError(f"{failover} took {name} for silent, but the file names {heir} to "
                         f"take its store (members changed?): not failed over")
    live = [n for n in config.names if n != name and n not in config.fenced]
    cluster = Cluster(config)
    try:
        if heir not in cluster.ping([heir], timeout=2.0):
            raise ClusterTimeout(f"{heir}, which keeps {name}'s copy and is to take its "
                                 f"store, does not answer: start it first")
        fresh = name not in config.heirs
        if auto and fresh and cluster.ping([name], timeout=0.5):
            raise ValueError(f"{name} answers again: not failed over")
        answers = False if auto else \
            _wait_whole(cluster, name, heir, timeout, force, say) if fresh else \
            bool(cluster.ping([name], timeout=1.0)) or not force
        say(f"{'failing over' if auto else 'removing'} {name}: {heir} takes its store")
        if answers:
            _drain(cluster, name, heir, timeout, force, say)
        if fresh:
            _in_file(path, lambda c: c.heirs.__setitem__(name, heir), auto, say)
            cluster.config.heirs = {**cluster.config.heirs, name: heir}
        fence = {"node": name, "heir": heir}
        asknodes.until_all_answer(
            cluster, live, "fence", {**fence, "phase": 1}, "fenced", timeout,
            f"the fence of {name} (phase 1)",
            accept=lambda p: p["node"] == name and p["phase"] == 1)
        if answers:
            _copied(cluster, name, heir, timeout, force)
        _stop(cluster, config, name, timeout, auto)
        asknodes.until_all_answer(
            cluster, [heir], "adopt", {"node": name, "force": force, "failover": auto},
            "adopted", timeout,
            f"the adoption of {name}'s store", accept=lambda p: p["node"] == name,
            refused=lambda n, p: ValueError(f"{n} cannot take {name}'s store: {p['error']}")
            if p.get("error") else None, every=0.2 if auto else asknodes.RESEND_SECONDS)
        reload_fences(cluster)  # (a node that joined meanwhile is told too)
        live = [n for n in cluster.config.names if n != name and n not in cluster.config.fenced]
        asknodes.until_all_answer(
            cluster, live, "fence", {**fence, "phase": 2}, "fenced", timeout,
            f"the fence of {name} (phase 2)",
            accept=lambda p: p["node"] == name and p["phase"] == 2)
    except ClusterTimeout as e:
        raise ClusterTimeout(f"{e}; run `swarm node remove {name}` again") from None
    finally:
        cluster.close()
    _in_file(path, lambda c: name in c.fenced or c.fenced.append(name), auto, say)
    localcluster.forget_pid(config, name)
    say(f"{name} removed: {heir} has its store, and its name means {heir} from now on")
    return heir
