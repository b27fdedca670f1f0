"""Swarm collections (swarm/collections.py, swarm/node/colldata.py) on three real nodes.

Programs check where they run after operations: `holds()` (below) looks in the store of the
node the program is on for the Ref of a Dict's value, so a test fails if the program runs
somewhere other than where the data is."""


import pytest
from helpers import failures, run_at_once, write

import swarm


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def run(cluster, tmp_path, source, **kw):
    out = cluster.run_file(write(tmp_path, "prog.py", PRELUDE + source), timeout=120, **kw)
    assert out.error is None, out.traceback or out.error
    return out


PRELUDE = """
from swarm import Dict, List, Set, Ref, here, nodes, move_to
from swarm.node import traps
from swarm.node import colldata   # (a module travels by name: its MEMO is this node's)

def eid_of(d, key):
    # the Ref id of d's value for key, as this node's memo knows it
    return colldata.MEMO.index[(colldata.root_id(d.name, nodes()), colldata.key_bytes(key))]

def holds(d, key):
    # is d's value for key in the store of the node the program is on?
    return traps.node().machine.data.has(eid_of(d, key))

def holds_member(s, m):
    # is the shard holding member m of s in the store of the node the program is on?
    j = colldata.stable_hash(colldata.key_bytes(m)) % s.param
    return traps.node().machine.data.has(colldata.shard_id(s.name, nodes(), j))
"""


DICT = """
d = Dict("t.dict")
keys = [f"k{i}" for i in range(30)]
for k in keys:
    d.set(k, {"key": k})
    assert holds(d, k), (k, here())            # set moved the program to the value
home_of = {}
for k in keys:
    v = d.get(k)
    assert v == {"key": k} and holds(d, k)     # so did get
    home_of[k] = here()
print("values on", len(set(home_of.values())), "nodes")
print(d.get("nope"), d.get("nope", 7))
d["x"] = [1]                               # implicit: asked, the program stays
stay = here()
print(d["x"], "x" in d, "nope" in d, len(d), here() == stay)
print(d.update("x", lambda v: v + [2]), holds(d, "x"))
print(d.update("fresh", lambda v: v + 1, 10), d.get("fresh"))
print(d.increment("n"), d.increment("n", 2.5), d["n"])
seen = {}
for k, v in d.items():                    # the body runs where each value lives
    if k in keys:
        assert v == {"key": k} and here() == home_of[k], (k, here())
    seen[k] = v
print(sorted(seen) == sorted(keys + ["x", "fresh", "n"]))
print(sorted(d) == sorted(seen), sorted(d.keys()) == sorted(seen))
print(sorted(v["key"] for v in d.values() if isinstance(v, dict)) == sorted(keys))
print(len(list(d.items())), len([k for k in d]), dict(d.items())["x"])
print(d.pop("x"), d.pop("x", "gone"), "x" in d, len(d))
del d["n"]
for bad in ("d['n']", "d.pop('n')", "del d['n']"):
    try:
        exec(bad)
    except KeyError as e:
        print("KeyError", e)
d.set(1, "one")
d[None] = "none"
print(d.get(1.0), d[True], (1,) in d, d.get(("a", 2), "t"), d.get(None))
"""


def test_every_dict_operation_across_three_nodes(cluster, tmp_path):
    out = run(cluster, tmp_path, DICT)
    assert out.stdout.splitlines() == [
        "values on 3 nodes",
        "None 7",
        "[1] True False 31 True",
        "[1, 2] True",
        "11 11",
        "1 3.5 3.5",
        "True",
        "True True",
        "True",
        "33 33 [1, 2]",
        "[1, 2] gone False 32",
        "KeyError 'n'",
        "KeyError 'n'",
        "KeyError 'n'",
        "one one False t none",
    ]


SET = """
s = Set("t.set", shards=4)
for m in ["a", "b", "c", "a", 3, (1, "x")]:
    s.add(m)
    assert holds_member(s, m), (m, here())     # add moved the program to the shard
print(len(s), "a" in s, "z" in s, 3 in s, 3.0 in s, (1, "x") in s)
s.discard("a")
s.discard("zz")
try:
    s.remove("zz")
except KeyError as e:
    print("KeyError", e)
s.remove("b")
assert holds_member(s, "b")
members = []
for m in s:                                # moves to each shard
    assert holds_member(s, m), (m, here())
    members.append(m)
print(sorted(map(str, members)), len(s))
print(sorted(map(str, s)) == sorted(map(str, members)))
"""


def test_every_set_operation_across_three_nodes(cluster, tmp_path):
    out = run(cluster, tmp_path, SET)
    assert out.stdout.splitlines() == [
        "5 True False True True True", "KeyError 'zz'", "[\"(1, 'x')\", '3', 'c'] 3",
        "True"]


LIST = """
log = List("t.list", chunk=4)
for i in range(10):                          # 3 chunks, on 3 nodes
    assert log.append(i * 10) == i
print(len(log), log[0], log[-1], log.get(9), log[3:7], log[::-3], log[20:], log[-2:])
log[1] = "one"
log.set(2, "two")
print(log[1], log.get(2))
for bad in ("log[10]", "log[-11]", "log.get(10)", "log.set(10, 0)"):
    try:
        exec(bad)
    except IndexError as e:
        print("IndexError", e)
try:
    log["a"]
except TypeError as e:
    print("TypeError", e)
seen, at = [], []
for v in log:                                # chunk by chunk, where each chunk lives
    seen.append(v)
    at.append(here())
print(seen, len(set(at)))
print(list(log) == seen, sum(1 for _ in log))
"""


def test_every_list_operation_across_three_nodes(cluster, tmp_path):
    out = run(cluster, tmp_path, LIST)
    assert out.stdout.splitlines() == [
        "10 0 90 90 [30, 40, 50, 60] [90, 60, 30, 0] [] [80, 90]",
        "one two",
        "IndexError swarm.List index out of range",
        "IndexError swarm.List index out of range",
        "IndexError swarm.List index out of range",
        "IndexError swarm.List index out of range",
        "TypeError swarm.List indices must be integers or slices, not str",
        "[0, 'one', 'two', 30, 40, 50, 60, 70, 80, 90] 3",
        "True 10",
    ]


IMPLICIT = """
d = Dict("t.implicit")
for i in range(6):
    d[i] = i * i                 # asked: the program never moves
total = 0
for i in range(6):
    total += d[i]
print(total, len(d), 3 in d, sorted(d), here())
"""


def test_implicit_calls_and_the_fetch_policy_bring_answers_instead(cluster, tmp_path):
    out = run(cluster, tmp_path, IMPLICIT, trace=True)
    assert out.stdout == "55 6 True [0, 1, 2, 3, 4, 5] n1\n" and out.trace == []
    explicit = "d = Dict('t.implicit')\nprint(sum(d.get(i) for i in range(6)), here())\n"
    fetched = run(cluster, tmp_path, explicit, policy="fetch", trace=True)
    assert fetched.stdout == "55 n1\n" and fetched.trace == []
    moved = run(cluster, tmp_path, explicit + "print(sorted(d.items()))", trace=True)
    assert moved.trace and moved.stdout.splitlines()[1] == str(
        [(i, i * i) for i in range(6)])


ERRORS = """
for make in (lambda: Dict(3), lambda: Dict(""), lambda: List("x", chunk=0),
             lambda: Set("x", shards="8")):
    try:
        make()
    except (TypeError, ValueError) as e:
        print(type(e).__name__, e)
d = Dict("t.errors")
d.set("s", "text")
for bad in ([1], {"a": 1}):
    try:
        d.get(bad)
    except TypeError as e:
        print("TypeError", e)
try:
    Set("t.errors")
    Set("t.errors").add(1)
except TypeError as e:
    print("TypeError", e)
try:
    Dict("t.errors", shards=3).get(1)
except ValueError as e:
    print("ValueError", e)
try:
    d.increment("s")
except TypeError as e:
    print("TypeError", e)
other = Ref(1, at="n2")
try:
    d.update("s", lambda v: other.get())
except RuntimeError as e:
    print("RuntimeError", e)
try:
    d.update("s", lambda v: d.get("t"))
except RuntimeError as e:
    print("RuntimeError", e)
print(d.get("s"))
"""


def test_bad_input_gets_a_clear_error(cluster, tmp_path):
    out = run(cluster, tmp_path, ERRORS)
    assert out.stdout.splitlines() == [
        "TypeError a collection's name is a str, not int",
        "ValueError a collection's name must be 1-200 printable characters: ''",
        "ValueError chunk must be an int from 1 to 4096, not 0",
        "ValueError shards must be an int from 1 to 4096, not '8'",
        "TypeError a key of a swarm collection must be a str, int, float, bytes, None or a "
        "tuple of them, not list",
        "TypeError a key of a swarm collection must be a str, int, float, bytes, None or a "
        "tuple of them, not dict",
        "TypeError 't.errors' is a swarm.Dict, not a swarm.Set",
        "ValueError 't.errors' was created with 8 shards, not 3",
        "TypeError increment() adds to a number, not to a str",
        "RuntimeError the function given to update() must not touch Refs or collections, "
        "nor move: it runs where the value lives, atomically",
        "RuntimeError the function given to update() must not use collections: it runs "
        "where the element lives, atomically",
        "text",
    ]


INCREMENTS = """
from swarm import Dict
counts = Dict("t.counts")
for _ in range(4):
    counts.increment("hits")
    counts.update("list", lambda v: v + [1], [])
"""


def test_fifty_concurrent_programs_lose_no_increment(cluster, tmp_path):
    """50 programs from 50 clients increment one value 4 times each, and append to one list
    value 4 times each (a read-modify-write by update): every one lands."""
    path = write(tmp_path, "inc.py", INCREMENTS)
    errors = failures(run_at_once(cluster, [(path, [])] * 50))
    assert not errors, errors[0]
    out = run(cluster, tmp_path, "c = Dict('t.counts')\nRESULT = c.get('hits'), "
                                 "len(c.get('list'))\n")
    assert out.value == (200, 200)


SPAWNED = """
from swarm import Dict, spawn

def bump(n):
    c = Dict("t.spawned")
    for _ in range(n):
        c.increment("hits")
    return n

futures = [spawn(bump, 5) for _ in range(50)]
RESULT = sum(f.get() for f in futures), Dict("t.spawned")["hits"]
"""


def test_fifty_spawned_tasks_lose_no_increment(cluster, tmp_path):
    out = run(cluster, tmp_path, SPAWNED)
    assert out.value == (250, 250)


MOVER = """
from swarm import Ref
for node in {route!r}:
    Ref._handle({eid!r}, "n1").relocate(node)
"""


def test_increments_land_while_the_value_is_relocated(cluster, tmp_path):
    """Ten programs increment one value while another moves its Ref round the cluster."""
    eid = run(cluster, tmp_path, "c = Dict('t.moving')\nc.increment('n', 0)\n"
                                 "RESULT = eid_of(c, 'n')\n").value
    inc = write(tmp_path, "inc.py", "from swarm import Dict\nc = Dict('t.moving')\n"
                                    "for _ in range(20):\n    c.increment('n')\n")
    mover = write(tmp_path, "mover.py", MOVER.format(route=["n2", "n3", "n1"] * 4, eid=eid))
    errors = failures(run_at_once(cluster, [(mover, [])] + [(inc, [])] * 10))
    assert not errors, errors[0]
    assert run(cluster, tmp_path, "RESULT = Dict('t.moving').get('n')").value == 200


STALE = """
d = Dict("t.stale")
d.set("k", "v")
eid = eid_of(d, "k")
old = here()
target = [n for n in nodes() if n != old][0]
third = [n for n in nodes() if n not in (old, target)][0]
move_to(third)
d.get("k")                                 # the memo of `third`: k's value is on `old`
Ref._handle(eid, old).relocate(target)     # as the placer does: `old` keeps a forward
move_to(third)
print(d.get("k"), here() == target)        # found through the forward...
move_to(third)
print(d.get("k"), here() == target)        # ...and the next get from there goes straight
"""


def test_a_value_moved_by_the_placer_is_still_found_and_memos_learn(cluster, tmp_path):
    out = run(cluster, tmp_path, STALE, trace=True)
    assert out.stdout == "v True\nv True\n"
    gets = [h for h in out.trace if h["why"] == "get dict t.stale"]
    # to old; then to target through old's forward; then straight to target
    assert [(h["from"], h["to"]) for h in gets][1:] == [
        (gets[0]["from"], gets[0]["to"]), (gets[0]["to"], gets[2]["to"]),
        (gets[0]["from"], gets[2]["to"])]


PERSIST_WRITE = """
d, s, log = Dict("p.users"), Set("p.tags"), List("p.events", chunk=3)
for i in range(12):
    d.set(f"u{i}", {"n": i})
    s.add(f"t{i % 5}")
    log.append(i)
d.increment("visits", 41)
# the placer may move any of these Refs: move the root and the shards of the Dict away
moved = [colldata.root_id("p.users", nodes())] + [
    colldata.shard_id("p.users", nodes(), j) for j in range(8)]
for rid in moved:
    home = rid.split(".")[0]
    move_to(home)
    if traps.node().machine.data.has(rid):            # (a shard no key went to does not exist)
        Ref._handle(rid, home).relocate(nodes()[(nodes().index(home) + 1) % 3])
RESULT = len(d), len(s), len(log)
"""

PERSIST_READ = """
from swarm import Dict, List, Set
d, s, log = Dict("p.users"), Set("p.tags"), List("p.events")
d.increment("visits")
log.append(12)
RESULT = (sorted((k, v if isinstance(v, int) else v["n"]) for k, v in d.items()),
          sorted(s), list(log), len(d), len(s), len(log))
"""


def test_collections_survive_a_full_cluster_restart(tmp_path):
    directory = str(tmp_path / "cluster")
    with swarm.local_cluster(3, directory) as c:
        out = c.run_file(write(tmp_path, "w.py", PRELUDE + PERSIST_WRITE), timeout=120)
        assert out.error is None, out.traceback
        assert out.value == (13, 5, 12)
    with swarm.local_cluster(3, directory) as c:  # every node new: no memo, stores kept
        out = c.run_file(write(tmp_path, "r.py", PERSIST_READ), timeout=120)
    assert out.error is None, out.traceback
    users, tags, events, n_users, n_tags, n_events = out.value
    assert users == sorted([(f"u{i}", i) for i in range(12)] + [("visits", 42)])
    assert tags == [f"t{i}" for i in range(5)]
    assert events == list(range(13))
    assert (n_users, n_tags, n_events) == (13, 5, 13)
