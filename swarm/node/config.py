"""The cluster file (TOML): node names, endpoints, the secret.

    secret = "5f2c...e1"            # hex; HMAC-SHA256 key of every message
    max_message_bytes = 268435456   # larger messages are refused unread
    hop_timeout = 60.0              # a hop unacknowledged this long fails its program
    auto_place = 0.0                # > 0: the first node runs `swarm place` this often (s)
    [nodes.n1]
    endpoint = "tcp://127.0.0.1:5701"
    dir = "/var/lib/swarm/n1"       # where the node keeps its SQLite file

Nodes are listed in cluster order; `swarm.nodes()` returns that order.
"""

from __future__ import annotations

import os
import secrets
import socket
import tomllib
from dataclasses import dataclass, field


@dataclass
class NodeConfig:
    name: str
    endpoint: str
    dir: str


@dataclass
class ClusterConfig:
    secret: bytes
    nodes: dict[str, NodeConfig] = field(default_factory=dict)
    max_message_bytes: int = 256 * 1024 * 1024
    hop_timeout: float = 60.0  # seconds a hop may stay unacknowledged before the program fails
    path: str | None = None
    auto_place: float = 0.0  # seconds between the first node's placement rounds; 0: never

    @property
    def names(self) -> list[str]:
        return list(self.nodes)

    @classmethod
    def load(cls, path: str) -> ClusterConfig:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
        base = os.path.dirname(os.path.abspath(path))
        nodes = {name: NodeConfig(name, spec["endpoint"],
                                  os.path.join(base, spec.get("dir", name)))
                 for name, spec in raw.get("nodes", {}).items()}
        return cls(bytes.fromhex(raw["secret"]), nodes,
                   int(raw.get("max_message_bytes", 256 * 1024 * 1024)),
                   float(raw.get("hop_timeout", 60.0)), path,
                   float(raw.get("auto_place", 0.0)))

    def save(self, path: str) -> None:
        lines = [f'secret = "{self.secret.hex()}"',
                 f"max_message_bytes = {self.max_message_bytes}",
                 f"hop_timeout = {self.hop_timeout}", f"auto_place = {self.auto_place}", ""]
        for n in self.nodes.values():
            lines += [f"[nodes.{n.name}]", f'endpoint = "{n.endpoint}"', f'dir = "{n.dir}"', ""]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds the secret
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines))
        self.path = path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_config(n: int, directory: str) -> ClusterConfig:
    """A cluster of n nodes named n1..nN on loopback, with a fresh secret."""
    directory = os.path.abspath(directory)  # the file may be read from anywhere
    nodes = {}
    for i in range(1, n + 1):
        name = f"n{i}"
        nodes[name] = NodeConfig(name, f"tcp://127.0.0.1:{free_port()}",
                                 os.path.join(directory, name))
    return ClusterConfig(secrets.token_bytes(32), nodes)
