"""A node's side of `swarm node add` (the operator's side is swarm/membership.py): a `join`
from a client makes a new node a member of the running cluster.

What the shell changes before the machine hears of it (machine/fences.py, `join`): the
cluster config it shares with its links, mirrors and gate gets the node (its endpoint and
public key: links connect to it, the gate takes its messages, the ZAP handler lets its key
in). The new node comes last in cluster order, as in the cluster file the operator's command
wrote before it asked. A `join` of a member already known with the same endpoint is answered
as the first was; one that would change a member, or bring back a node declared gone, is
refused with the reason.
"""

from __future__ import annotations

from swarm.node import machine as m
from swarm.node.config import NodeConfig, name_problem
from swarm.node.machine.fences import join_problem
from swarm.wire import decode


def join(shell, env, identity: bytes) -> None:
    p = decode.payload(env)
    node, endpoint, key = p["node"], p["endpoint"], p.get("public_key")
    error = refusal(shell, node, endpoint, key) or \
        join_problem(shell.config.names, node, p.get("members"))
    if error:
        shell.refusals.note("join refused", f"join of {node!r} from {env.sender}: {error}")
        shell._reply(m.Reply(identity.decode(), "joined", {"node": node, "error": error}))
        return
    config = shell.config
    if node not in config.nodes:
        if config.ring is None:  # (as the operator's command wrote it in the file)
            config.ring = config.names
        config.nodes[node] = NodeConfig(node, endpoint, "", key, None)
        shell.gate.nodes = frozenset(config.names)
        if shell.links.zap is not None:
            shell.links.zap.allowed[key] = node
    shell.emit(m.MemberJoined(identity.decode(), node))


def refusal(shell, node: str, endpoint: str, key: str | None) -> str:
    """Why this join cannot be taken ("" if it can)."""
    config = shell.config
    if name_problem(node):
        return name_problem(node)
    if node in shell.machine.fenced or node in config.fenced:
        return f"{node} was declared gone (swarm node gone): a gone node does not come back"
    known = config.nodes.get(node)
    if known is not None:
        return "" if known.endpoint == endpoint else \
            f"{node} is a member already, at {known.endpoint}, not {endpoint}"
    if not endpoint.startswith("tcp://"):
        return f"endpoint {endpoint!r}: a tcp:// address"
    if config.curve and not key:
        return "the cluster uses CURVE keys: the new node's public key is needed"
    return ""
