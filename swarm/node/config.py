"""The cluster file (TOML): node names, endpoints, the secret, and CURVE keys.

    secret = "5f2c...e1"            # hex; HMAC-SHA256 key of every message
    max_message_bytes = 268435456   # larger messages are refused unread (nodes send larger
                                    # ones in chunks, docs/nodes.md)
    max_value_bytes = 8589934592    # a Ref's value (encoded) or a hop larger than this is
                                    # refused where it is made, with ValueTooLarge
    value_cache_bytes = 1073741824  # values kept decoded in a node's memory (real size)
    held_values_bytes = 1073741824  # programs' large values a node keeps to name by hash;
                                    # past it, new ones travel inside hops (docs/nodes.md)
    hop_timeout = 60.0              # a hop unacknowledged this long: its client is told the
                                    # program waits; a question unanswered this long fails
    fenced = ["n4"]                 # nodes declared gone (`swarm node gone n4`)
    heirs = { n2 = "n3" }           # nodes removed (`swarm node remove n2`): their store
                                    # is n3's, their name means n3 (once in `fenced`; not
                                    # yet: the removal is under way)
    ring = ["n1", "n2", "n3"]       # the nodes whose names hash the homes of collections
                                    # and named Refs: the first nodes, kept when nodes join
                                    # (`swarm node add`; default: every node)
    replicas = 2                    # copies of each node's store: 2 keeps one on its mirror,
                                    # the next node (default: 2 from three nodes on, else 1)
    replay_window = 300.0           # a message sent longer ago (or ahead) is refused
    [client]                        # CURVE keypair of the clients (swarm keys)
    public_key = "..."
    secret_key = "..."
    auto_place = 0.0                # > 0: the first node runs `swarm place` this often (s)
    auto_gc = 0.0                   # > 0: the first node runs `swarm gc` this often (s)
    failover = 0.0                  # > 0: a node silent this long (s) is removed by its
                                    # mirror, which serves its Refs (docs/nodes.md)
    [nodes.n1]
    endpoint = "tcp://127.0.0.1:5701"
    dir = "/var/lib/swarm/n1"       # where the node keeps its SQLite file
    public_key = "..."              # CURVE keypair of the node (swarm keys)
    secret_key = "..."

Nodes are listed in cluster order; `swarm.nodes()` returns that order. The file holds the
cluster's secrets: it must be readable by its owner only (load refuses it otherwise), and
whoever holds it can run code on every node (docs/security.md). Keys are all there or not
at all: with them every link is CURVE; without them nodes listen on loopback only.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import stat
import tomllib
from dataclasses import dataclass, field

from swarm.node.machine.mirror import mirror_of
from swarm.wire import curve
from swarm.wire.gate import REPLAY_WINDOW


class ConfigError(Exception):
    """The cluster file cannot be used; the message says why and what to do."""


NODE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # (a node's name starts its Refs' ids: no dots)


def name_problem(name: str) -> str:
    """Why `name` cannot name a node ("" if it can)."""
    return "" if NODE_NAME.fullmatch(name) else \
        f"{name!r}: a node's name is 1 to 64 letters, digits, '-' or '_'"


@dataclass
class NodeConfig:
    name: str
    endpoint: str
    dir: str
    public_key: str | None = None  # CURVE, Z85
    secret_key: str | None = None


@dataclass
class ClusterConfig:
    secret: bytes | None
    nodes: dict[str, NodeConfig] = field(default_factory=dict)
    max_message_bytes: int = 256 * 1024 * 1024
    hop_timeout: float = 60.0  # seconds before a program waiting for a node says so
    path: str | None = None
    replay_window: float = REPLAY_WINDOW
    client_public_key: str | None = None  # CURVE keypair of the clients
    client_secret_key: str | None = None
    auto_place: float = 0.0  # seconds between the first node's placement rounds; 0: never
    auto_gc: float = 0.0  # seconds between the first node's collections (swarm gc); 0: never
    fenced: list = field(default_factory=list)  # nodes declared gone (swarm node gone)
    max_value_bytes: int = 8 * 1024 ** 3  # the largest Ref value or hop (ValueTooLarge)
    value_cache_bytes: int = 1 << 30  # a node's decoded values in memory (data.py)
    held_values_bytes: int = 1 << 30  # programs' large values held to name by hash
    # every node's PYTHONHASHSEED: str hashes, and so set order, agree across a hop
    hash_seed: int | None = None
    replicas: int | None = None  # copies of each store (None: the default, `copies`)
    ring: list | None = None  # the nodes homes are hashed over (None: all; `homes`)
    heirs: dict = field(default_factory=dict)  # removed node -> the node with its store
    failover: float = 0.0  # seconds of silence before a node's mirror takes it over; 0: never

    def route(self, name: str) -> str:
        """The node that answers for `name`: the heir of a removed node (swarm/adoption.py)."""
        while name in self.heirs and name in self.fenced:
            name = self.heirs[name]
        return name

    @property
    def copies(self) -> int:
        """Copies of each node's store: `replicas`, or 2 from three nodes on, else 1."""
        return self.replicas if self.replicas is not None else 2 if len(self.nodes) >= 3 else 1

    def mirror_of(self, name: str, fenced=()) -> str | None:
        """The node that keeps `name`'s copy (machine/mirror.py), or None."""
        return mirror_of(self.names, {*self.fenced, *fenced}, name, self.copies)

    @property
    def names(self) -> list[str]:
        return list(self.nodes)

    @property
    def homes(self) -> list[str]:
        """The nodes whose names hash the homes of collections and named Refs: `ring`, or
        every node. A node added later (`swarm node add`) takes no part: the homes of what
        exists stay where they are, and new nodes get data by placement (docs/nodes.md)."""
        return list(self.ring) if self.ring else self.names

    @property
    def curve(self) -> bool:
        """Whether links use CURVE (every node and the clients have keys)."""
        return self.client_public_key is not None

    def curve_allowed(self) -> dict[str, str]:
        """The public keys a node lets in: its peers' and the clients'."""
        allowed = {n.public_key: n.name for n in self.nodes.values()}
        allowed[self.client_public_key] = "client"
        return allowed

    @classmethod
    def load(cls, path: str, need_secret: bool = True) -> ClusterConfig:
        """Read and check a cluster file. Raises ConfigError, naming the file and the fix."""
        try:
            with open(path, "rb") as f:
                _check_private(path, os.fstat(f.fileno()))
                raw = tomllib.load(f)
        except OSError as e:
            raise ConfigError(f"cannot read the cluster file {path}: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path} is not valid TOML: {e}") from None
        except UnicodeDecodeError as e:  # (TOML is UTF-8)
            line = e.object[:e.start].count(b"\n") + 1
            raise ConfigError(f"{path} is not valid TOML: not UTF-8 text (byte "
                              f"0x{e.object[e.start]:02x} on line {line})") from None
        base = os.path.dirname(os.path.abspath(path))
        try:
            nodes = {name: NodeConfig(name, spec["endpoint"],
                                      os.path.join(base, spec.get("dir", name)),
                                      spec.get("public_key"), spec.get("secret_key"))
                     for name, spec in raw.get("nodes", {}).items()}
            client = raw.get("client", {})
            config = cls(bytes.fromhex(raw["secret"]) if "secret" in raw else None, nodes,
                         int(raw.get("max_message_bytes", 256 * 1024 * 1024)),
                         float(raw.get("hop_timeout", 60.0)), path,
                         float(raw.get("replay_window", REPLAY_WINDOW)),
                         client.get("public_key"), client.get("secret_key"),
                         auto_place=float(raw.get("auto_place", 0.0)),
                         auto_gc=float(raw.get("auto_gc", 0.0)),
                         fenced=[str(n) for n in raw.get("fenced", [])],
                         max_value_bytes=int(raw.get("max_value_bytes", 8 * 1024 ** 3)),
                         value_cache_bytes=int(raw.get("value_cache_bytes", 1 << 30)),
                         held_values_bytes=int(raw.get("held_values_bytes", 1 << 30)),
                         hash_seed=int(raw["hash_seed"]) if "hash_seed" in raw else None,
                         replicas=int(raw["replicas"]) if "replicas" in raw else None,
                         ring=[str(n) for n in raw["ring"]] if "ring" in raw else None,
                         heirs={str(n): str(h) for n, h in raw.get("heirs", {}).items()},
                         failover=float(raw.get("failover", 0.0)))
        except (KeyError, ValueError, TypeError, AttributeError) as e:
            raise ConfigError(f"{path}: a node or setting is incomplete or mistyped ({e!r})"
                              ) from None
        if config.replicas is not None and config.replicas not in (1, 2):
            raise ConfigError(f"{path}: replicas = {config.replicas}: 1 (each store alone) "
                              f"or 2 (each store and a copy on its mirror) are supported")
        if config.failover < 0 or 0 < config.failover < 1:
            raise ConfigError(f"{path}: failover = {config.failover:g}: 0 (by hand) or the "
                              f"seconds a node is silent before its mirror takes it over "
                              f"(at least 1)")
        if config.ring is not None and (not config.ring or set(config.ring) - set(nodes)):
            raise ConfigError(f"{path}: ring = {config.ring} must name nodes of the file")
        if set(config.heirs) - set(nodes) or set(config.heirs.values()) - set(nodes):
            raise ConfigError(f"{path}: heirs = {config.heirs} must name nodes of the file")
        if need_secret and not config.secret:
            raise ConfigError(f"{path} has no secret: `swarm keys --cluster {path}` makes one")
        config.check_keys()
        return config

    def check_keys(self) -> None:
        """Keys are all there (each node's and the clients'), valid, or not at all."""
        pairs = {f"node {n.name}": (n.public_key, n.secret_key) for n in self.nodes.values()}
        pairs["[client]"] = (self.client_public_key, self.client_secret_key)
        present = [who for who, (public, _) in pairs.items() if public]
        if not present:
            return
        missing = [who for who, (public, secret) in pairs.items() if not (public and secret)]
        if missing:
            raise ConfigError(f"{self.path}: CURVE keys for {', '.join(present)} but not for "
                              f"{', '.join(missing)}: `swarm keys --rotate --cluster "
                              f"{self.path}` makes a complete set")
        for who, (public, secret) in pairs.items():
            try:
                matches = curve.public_of(secret) == public
            except Exception:  # not Z85 of 32 bytes
                matches = False
            if not matches:
                raise ConfigError(f"{self.path}: the CURVE keys of {who} are not a keypair")

    def add_keys(self, replace: bool = False) -> list[str]:
        """Give every node and the clients a new CURVE keypair (and the cluster a secret if it
        has none; `replace`: new keys and a new secret even if there are some). Returns what
        got keys."""
        if self.curve and not replace:
            raise ConfigError(f"{self.path} has CURVE keys already (--rotate replaces them, "
                              f"and the secret)")
        if replace or not self.secret:
            self.secret = secrets.token_bytes(32)
        for node in self.nodes.values():
            node.public_key, node.secret_key = curve.keypair()
        self.client_public_key, self.client_secret_key = curve.keypair()
        return [*self.names, "client"]

    def save(self, path: str) -> None:
        lines = [f'secret = "{self.secret.hex()}"',
                 f"max_message_bytes = {self.max_message_bytes}",
                 f"max_value_bytes = {self.max_value_bytes}",
                 f"value_cache_bytes = {self.value_cache_bytes}",
                 f"held_values_bytes = {self.held_values_bytes}",
                 f"hop_timeout = {self.hop_timeout}",
                 f"replay_window = {self.replay_window}", f"auto_place = {self.auto_place}",
                 f"auto_gc = {self.auto_gc}"]
        if self.failover:
            lines.append(f"failover = {self.failover}")
        if self.hash_seed is not None:
            lines.append(f"hash_seed = {self.hash_seed}")
        if self.replicas is not None:
            lines.append(f"replicas = {self.replicas}")
        if self.fenced:
            lines.append("fenced = [" + ", ".join(f'"{n}"' for n in self.fenced) + "]")
        if self.ring:
            lines.append("ring = [" + ", ".join(f'"{n}"' for n in self.ring) + "]")
        if self.heirs:
            lines.append("heirs = { " + ", ".join(f'{n} = "{h}"' for n, h in
                                                 self.heirs.items()) + " }")
        lines.append("")
        if self.curve:
            lines += ["[client]", f'public_key = "{self.client_public_key}"',
                      f'secret_key = "{self.client_secret_key}"', ""]
        for n in self.nodes.values():
            lines += [f"[nodes.{n.name}]", f'endpoint = "{n.endpoint}"', f'dir = "{n.dir}"']
            if n.public_key:
                lines += [f'public_key = "{n.public_key}"', f'secret_key = "{n.secret_key}"']
            lines.append("")
        # holds the secrets: written as a new file readable by its owner only, then renamed
        tmp = f"{path}.tmp{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines))
        os.replace(tmp, path)
        self.path = path


def _check_private(path: str, st: os.stat_result) -> None:
    """The file holds the secret: refuse it if others may read or change it (as ssh does)."""
    if st.st_mode & 0o077:
        raise ConfigError(f"{path} is readable or writable by others (mode "
                          f"{stat.filemode(st.st_mode)}), and it holds the cluster's secret: "
                          f"`chmod 600 {path}`, and make a new secret if others may have "
                          f"read it (`swarm keys --rotate --cluster {path}`)")
    if st.st_uid not in (os.getuid(), 0):
        raise ConfigError(f"{path} belongs to another user (uid {st.st_uid}), who could change "
                          f"the cluster's secret and keys: it must be yours")


def free_port() -> int:
    """A loopback port free now, for a node that binds it a moment later.

    Discussion: not one the system hands out (bind to port 0): those come from the ephemeral
    range, the same ports every outgoing connection's local end takes - between this check
    and the node's bind, a client or peer connecting anywhere may take it. A random port
    below that range (or above 1024 where the range starts low) is taken only by another
    listener that chose it too."""
    low, high = _ephemeral_range()
    lo, hi = (10000, low - 1) if low > 12000 else (max(high + 1, 1025), 65535)
    for _ in range(200):
        port = secrets.randbelow(hi - lo) + lo
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # (a crowded machine: let the system choose)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = map(int, f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def local_config(n: int, directory: str, curve_keys: bool = False) -> ClusterConfig:
    """A cluster of n nodes named n1..nN on loopback, with a fresh secret (and CURVE keys)."""
    directory = os.path.abspath(directory)  # the file may be read from anywhere
    nodes = {}
    for i in range(1, n + 1):
        name = f"n{i}"
        nodes[name] = NodeConfig(name, f"tcp://127.0.0.1:{free_port()}",
                                 os.path.join(directory, name))
    config = ClusterConfig(secrets.token_bytes(32), nodes,
                           hash_seed=secrets.randbelow(4294967296))
    if curve_keys:
        config.add_keys()
    return config
