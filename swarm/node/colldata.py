"""What Swarm collections are made of (swarm/collections.py): the ids of their Refs, the keys,
each node's memo, and an operation in flight. Plain data; the steps that run on the nodes are
in collserve.py.

A collection is named, and every Ref it is made of has an id derived from its name N:

    root      <home>.root.N      {"kind": "dict" | "set" | "list", "param": shards or chunk
                                  size, "tail": the last chunk (lists)}
    shard j   <node>.shard.N.j   a Dict's index {key bytes: (key, element Ref id)}, or a Set's
                                  members {key bytes: member}
    chunk c   <node>.chunk.N.c   a List's values c*B .. c*B+B-1, each encoded (codec.dumps)
    element   an ordinary Ref    one Dict value, created on its shard's node

The root's home is a stable hash of N over the cluster's nodes; shard j and chunk c go round
the nodes from there (`home`). So any program finds a collection from its name alone, and a
node restarted from its store finds it again. A derived Ref that was never written is empty;
the first write creates it on its home. When the placer moves one of these Refs, its old node
keeps a forward (docs/nodes.md), as for any Ref.

Every node keeps a memo (`MEMO`) of what ops learned: each collection's kind and parameter,
key -> element Ref id (so that reading a key again goes straight to its element), where Refs
moved to, and each list's tail chunk. A memo entry may be stale; a step that finds so corrects
it (and tells the node whose memo misled it).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

KINDS = ("dict", "set", "list")
DEFAULT_SHARDS = 8  # shards of a Dict or Set index
DEFAULT_CHUNK = 64  # values per List chunk
MAX_PARAM = 4096
MEMO_ENTRIES = 200_000


# ---- names, keys and ids ----------------------------------------------------------------------

def check_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a collection's name is a str, not {type(name).__name__}")
    if not name or len(name) > 200 or not name.isprintable():
        raise ValueError(f"a collection's name must be 1-200 printable characters: {name!r}")
    return name


def key_bytes(key) -> bytes:
    """A key's routing bytes: equal keys (1, 1.0, True) give equal bytes in every process
    (unlike hash(), which is salted per process). Raises TypeError for other kinds of key."""
    t = type(key)
    if t is str:
        return b"s" + key.encode("utf-8", "surrogatepass")
    if t is int or t is bool:
        return b"i" + str(int(key)).encode()
    if t is float:
        return b"i" + str(int(key)).encode() if key.is_integer() else b"f" + repr(key).encode()
    if t is bytes:
        return b"b" + key
    if key is None:
        return b"n"
    if t is tuple:
        parts = [key_bytes(k) for k in key]
        return b"t" + b"".join(len(p).to_bytes(4, "big") + p for p in parts)
    raise TypeError(f"a key of a swarm collection must be a str, int, float, bytes, None or a "
                    f"tuple of them, not {t.__name__}")


def stable_hash(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def root_id(name: str, names: list[str]) -> str:
    return f"{names[stable_hash(b'root:' + name.encode()) % len(names)]}.root.{name}"


def home(name: str, names: list[str], i: int) -> str:
    """The home of shard or chunk `i`: round the nodes, starting at the root's."""
    start = names.index(root_id(name, names).split(".", 1)[0])
    return names[(start + i) % len(names)]


def shard_id(name: str, names: list[str], j: int) -> str:
    return f"{home(name, names, j)}.shard.{name}.{j}"


def chunk_id(name: str, names: list[str], c: int) -> str:
    return f"{home(name, names, c)}.chunk.{name}.{c}"


# ---- the memo ---------------------------------------------------------------------------------

class Memo:
    """What this node learned about collections (bounded; any entry may be stale)."""

    def __init__(self) -> None:
        self.meta: dict[str, tuple[str, int]] = {}  # root id -> (kind, param)
        self.index: OrderedDict = OrderedDict()  # (root id, key bytes) -> element Ref id
        self.hints: OrderedDict = OrderedDict()  # Ref id -> node it moved to
        self.tails: dict[str, int] = {}  # a list's root id -> its tail chunk

    def learn(self, facts) -> None:
        for fact in facts:
            what = fact[0]
            if what == "meta":
                self.meta[fact[1]] = fact[2]
            elif what == "index":
                self._put(self.index, (fact[1], fact[2]), fact[3])
            elif what == "forget":
                self.index.pop((fact[1], fact[2]), None)
            elif what == "hint":
                self._put(self.hints, fact[1], fact[2])
            elif what == "tail":
                self.tails[fact[1]] = max(fact[2], self.tails.get(fact[1], 0))

    @staticmethod
    def _put(table: OrderedDict, key, value) -> None:
        table[key] = value
        table.move_to_end(key)
        if len(table) > MEMO_ENTRIES:
            table.popitem(last=False)

    def hint(self, ref_id: str) -> str:
        return self.hints.get(ref_id) or ref_id.split(".", 1)[0]


MEMO = Memo()


# ---- the op -----------------------------------------------------------------------------------

class CollOp:
    """One operation on a collection, in flight. Plain data (it travels in asks, pickled, and
    in continuations); values in it are encoded blobs, so a node that runs a step never needs
    the program's code to decode them."""

    qid: str | None = None  # a chain's id: its asks are answered once (collchain.py)
    asks = 0  # the asks of the chain so far (ask n's id: f"{qid}.{n}")

    def __init__(self, kind: str, name: str, param: int | None, action: str, key=None,
                 blob: bytes | None = None) -> None:
        self.kind, self.name, self.param, self.action = kind, name, param, action
        self.key, self.kb, self.blob = key, None, blob
        self.stage: str = "start"
        self.target: str | None = None  # the Ref the next step runs beside (None: anywhere)
        self.moves = False  # the program itself goes to the target (when it can)
        self.done = False
        self.out = None  # the result (an encoded value where it is one)
        self.missing = False  # the key or index is not there (the caller decides: default?)
        self.err: tuple[str, tuple] | None = None  # an error for the caller to raise
        self.eid: str | None = None  # the element Ref found
        self.memo_node: str | None = None  # whose memo said where eid is (to correct it)
        self.replacing: str | None = None  # an element found deleted: its index entry goes
        self.fn = None  # update/increment: old value -> new value (None when it is the
        # program's own function: it travels with the program, never in an ask)
        self.user_fn = False
        self.mode = None  # an iteration's: "keys", "values" or "items" (Dicts)
        self.fetch_all = False  # the program stays: an asked node runs every step it can
        self.dest: str | None = None  # where the next step must run (after an ask, a move)
        self.came_from: str | None = None  # the node the program left to come to `target`
        self.learned: list = []  # facts for the memos of the nodes it passes
        self.touched: list[str] = []  # Refs it used, for the placer's access statistics
        # counting, slicing, iterating
        self.i = 0
        self.order: list = []
        self.batch: list = []
        self.pos = 0
        self.acc = None
        self.ready: list = []  # items produced and not yet taken by the program

    def __repr__(self) -> str:
        return f"<CollOp {self.action} {self.kind} {self.name!r} at {self.stage}>"

    @property
    def root(self) -> str:
        return self._root

    def names(self, names: list[str]) -> None:
        """Fix the cluster's node names (ids derive from them)."""
        self.nodes = list(names)
        self._root = root_id(self.name, self.nodes)

    def go(self, stage: str, target: str | None, moves: bool = False) -> None:
        self.stage, self.target, self.moves = stage, target, moves

    def finish(self, out=None, missing: bool = False) -> None:
        self.done, self.out, self.missing, self.target = True, out, missing, None

    def fail(self, error: str, *args) -> None:
        self.err = (error, args)
        self.finish()

    def learn(self, *fact) -> None:
        self.learned.append(fact)
        MEMO.learn([fact])

    def shard(self, kb: bytes) -> str:
        return shard_id(self.name, self.nodes, stable_hash(kb) % self.param)

    def chunk(self, c: int) -> str:
        return chunk_id(self.name, self.nodes, c)

    @property
    def needs_program(self) -> bool:
        """The next step runs the program's own function: only the program can run it."""
        return self.user_fn and self.stage in ("insert", "elem_update")
