"""Nodes as a user runs them: real swarm-node processes, ZeroMQ on loopback, SQLite files."""

import glob
import os
import time

import pytest
from helpers import ROOT, swarm_cli, write

import swarm
from swarm.driver import run_native


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def test_hello_through_the_cli(tmp_path):
    done = swarm_cli("run", os.path.join(ROOT, "examples", "hello.py"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("bumble bee read on n1\nhoney bee read on n2\n"
                           "stingless bee read on n3\n")


WHERE = """
from swarm import Ref, here, move_to, nodes
print("start", here(), nodes())
a = Ref(1)                      # created where the program is: n1
print("create local", here())
b = Ref(2, at="n3")             # a forced remote variable: the program goes to n3
print("create remote", here())
print("get a", a.get(), here())
b.set(20)
print("set b", here())
move_to("n2")
print("moved", here())
print("get b", b.get(), here())
a.delete()
print("delete a", here())
try:
    a.get()
except KeyError:
    print("a is gone", here())
RESULT = (here(), b.get())
"""


def test_program_runs_where_each_ref_lives(cluster, tmp_path):
    out = cluster.run_file(write(tmp_path, "where.py", WHERE))
    assert out.error is None, out.traceback
    assert out.stdout.splitlines() == [
        "start n1 ['n1', 'n2', 'n3']",
        "create local n1",
        "create remote n3",
        "get a 1 n1",
        "set b n3",
        "moved n2",
        "get b 20 n3",
        "delete a n1",
        "a is gone n1",
    ]
    assert out.value == ("n1", 20)  # here() is evaluated before b.get() moves it to n3
    assert out.route == ["n1", "n3", "n1", "n3", "n2", "n3", "n1", "n3"]


def test_uncaught_error_names_the_nodes(cluster, tmp_path):
    src = "from swarm import move_to\nmove_to('n2')\nprint('on n2')\n1 / 0\n"
    out = cluster.run_file(write(tmp_path, "boom.py", src))
    assert out.stdout == "on n2\n"
    assert out.error == "ZeroDivisionError: division by zero"
    assert out.route == ["n1", "n2"] and "ZeroDivisionError" in out.traceback


CORPUS = sorted(glob.glob(os.path.join(ROOT, "tests", "corpus", "[0-9]*.py")))


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_corpus_across_three_nodes(cluster, path):
    """Every checkpoint() moves the program to the next node: the same output and RESULT."""
    native = run_native(path)
    out = cluster.run_file(path, hop_checkpoints=True, timeout=60)
    assert out.stdout == native.stdout
    assert out.value == native.result
    assert out.error == native.error


HELLO = os.path.join(ROOT, "examples", "hello.py")


def test_fetch_policy_brings_values_to_the_program(cluster):
    out = cluster.run_file(HELLO, policy="fetch")
    assert out.stdout == ("bumble bee read on n1\nhoney bee read on n1\n"
                          "stingless bee read on n1\n")
    assert out.route == ["n1"]


def test_a_value_of_the_programs_own_class_is_asked_of_a_node_that_never_ran_it(
        cluster, tmp_path):
    """Under fetch a value goes to the Ref's node as a question's argument, not in a hop: a
    value of a class of the program's own module (beside the script) named a source that
    node never had - `LookupError: source of module shapes ... is not on n2` - where migrate
    carried it. The node asks the asker for the source, once, and decodes it."""
    write(tmp_path, "shapes.py", "class Box:\n    def __init__(self, n):\n        self.n = n\n")
    main = write(tmp_path, "boxes.py", (
        "from swarm import Ref\nfrom shapes import Box\n"
        "r = Ref([Box(1)], at='n2')\nr.set(r.get() + [Box(2)])\n"
        "RESULT = [b.n for b in r.get()]\n"))
    for policy in ("fetch", "migrate"):
        out = cluster.run_file(main, policy=policy)
        assert (out.error, out.value) == (None, [1, 2]), (policy, out.error)


OWN_CLASSES = """
import enum
from dataclasses import dataclass
from swarm import Ref

class Color(enum.Enum):
    RED = 1
    BLUE = 2

@dataclass
class Item:
    name: str
    color: Color

seen = []
for at in ("n1", "n2"):
    r = Ref([Item("a", Color.BLUE)], at=at)
    v = r.get()[0]
    seen += [type(v) is Item, isinstance(v, Item), v.color is Color.BLUE,
             v == Item("a", Color.BLUE)]
RESULT = seen
"""


def test_a_value_read_from_a_ref_is_made_of_the_programs_own_classes(cluster, tmp_path):
    """What a program stores in a Ref and reads back is of its own classes: before, a value's
    classes were made again on every read - `isinstance(r.get()[0], Item)` was False, an
    Enum member never `is` itself, equal dataclasses compared unequal - silently, on the
    same node as on another, under either policy."""
    main = write(tmp_path, "own.py", OWN_CLASSES)
    for policy in ("migrate", "fetch"):
        out = cluster.run_file(main, policy=policy)
        assert (out.error, out.value) == (None, [True] * 8), (policy, out.error)


WRITES_ELSEWHERE = """
from swarm import Ref
r = Ref(0, at="n3")           # made on n3: a question with an id
for i in range(20):
    r.set(i)                  # asked of n3 (fetch): each a question with an id
RESULT = r.get()
"""


def test_questions_that_write_are_answered_once_and_forgotten_after(cluster, tmp_path):
    """A write asked of another node carries an id, and the node asked keeps its answer
    (machine/answers.py) until the asking program's segment has ended on disk: then it is
    told, and forgets. A lost forget would leave answers behind for a week."""
    def kept() -> int:
        return next(s for s in cluster.status() if s["node"] == "n3")["answers_kept"]

    before = kept()
    out = cluster.run_file(write(tmp_path, "w.py", WRITES_ELSEWHERE), policy="fetch")
    assert out.error is None, out.traceback
    assert out.value == 19 and out.route == ["n1"]
    deadline = time.monotonic() + 20
    while kept() > before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kept() <= before


SLOW_REDUCE = """
import sys, time
from swarm import checkpoint, here

class Slow:
    def __reduce__(self):              # runs while the node encodes this continuation
        open(sys.argv[1], "w").close()
        t = time.time()
        while time.time() - t < 1.5:   # long past its 10 ms slice: switched out meanwhile
            pass
        return (Slow, ())

s = Slow()
checkpoint()                           # (hop_checkpoints) moves on: s is pickled on the way
RESULT = here()
"""

CHECKPOINTS_MEANWHILE = """
import os, sys, time
from swarm import checkpoint, here
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
first = here()
checkpoint()                           # (hop_checkpoints) moves on to the next node
RESULT = [first, here()]
"""


def test_a_program_switched_out_while_pickled_does_not_stop_the_others_moving(
        cluster, tmp_path):
    """A continuation is encoded with its program's captures off (a checkpoint in its
    __reduce__ is no place to move from): off for that program only. (Before: for the whole
    node, so another program's checkpoint did nothing while the first was switched out in
    its slow __reduce__ - the second stayed on n1.)"""
    flag = str(tmp_path / "flag")
    a = cluster.submit(write(tmp_path, "a.py", SLOW_REDUCE), [flag], node="n1",
                       hop_checkpoints=True)
    b = cluster.submit(write(tmp_path, "b.py", CHECKPOINTS_MEANWHILE), [flag], node="n1",
                       hop_checkpoints=True)
    out = cluster.results([a, b], timeout=60)
    assert (out[a].value, out[a].error) == ("n2", None), out[a].traceback
    assert (out[b].value, out[b].error) == (["n1", "n2"], None), out[b].traceback


FALLBACK = """
from swarm import Ref, here, move_to
a = Ref("remote value", at="n2")
move_to("n1")
f = open(__file__)       # an open file cannot migrate: this access falls back to a fetch
print(a.get(), "read on", here())
f.close()
del f                    # now the program can move again
print(a.get(), "read on", here())
"""


def test_not_migratable_falls_back_to_fetch_and_is_counted(cluster, tmp_path):
    before = {r["node"]: r["fallbacks"] for r in cluster.status()}["n1"]
    out = cluster.run_file(write(tmp_path, "fb.py", FALLBACK))
    assert out.error is None, out.traceback
    assert out.stdout == "remote value read on n1\nremote value read on n2\n"
    after = {r["node"]: r["fallbacks"] for r in cluster.status()}["n1"]
    assert after == before + 1


def test_strict_mode_raises_not_migratable(cluster, tmp_path):
    out = cluster.run_file(write(tmp_path, "fb.py", FALLBACK), strict=True)
    assert out.stdout == ""
    assert out.error.startswith("NotMigratable:") and "'f'" in out.error


SORTED_KEY = """
from swarm import Ref
a, b = Ref(2, at="n2"), Ref(1, at="n3")
print(sorted([a, b], key=lambda r: r.get()) == [b, a])
"""


def test_a_capture_through_c_code_is_seen_before_unwinding_and_fetches(cluster, tmp_path):
    """sorted() calls the key from C: the access sees that before anything unwinds (the
    stack is checked first), so the program stays, fetches, and is counted - it used to
    end silently (the lambda's frame resumed as if it were the whole program), then to
    fail. --strict makes it NotMigratable naming where."""
    path = write(tmp_path, "sk.py", SORTED_KEY)
    before = sum(r["fallbacks"] for r in cluster.status())
    out = cluster.run_file(path)
    assert out.error is None and out.stdout == "True\n", out.traceback
    assert sum(r["fallbacks"] for r in cluster.status()) >= before + 1
    out = cluster.run_file(path, strict=True)
    assert out.stdout == ""
    assert out.error.startswith("NotMigratable:") and f"{path}:4" in out.error
    assert "sorted(key=...)" in out.error
    out = cluster.run_file(path, policy="fetch")
    assert out.error is None and out.stdout == "True\n"


HELPER = 'NAME = "{name}"\ncount = 0\n'
USES_HELPER = """
import helper
from swarm import here, move_to
helper.count += 1
move_to("n2")
import helper as again
print(helper.NAME, helper.count, again is helper, here())
"""


def test_programs_on_a_node_do_not_share_their_modules(cluster, tmp_path):
    """Two programs with different helper.py files, each run twice on the same nodes: each
    run imports its own helper, with fresh globals, as a process of its own would."""
    outputs = []
    for name in ("a", "b", "a", "b"):
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / "helper.py").write_text(HELPER.format(name=name))
        main = write(tmp_path / name, "main.py", USES_HELPER)
        out = cluster.run_file(main, timeout=30)
        assert out.error is None, out.traceback
        outputs.append(out.stdout)
    assert outputs == ["a 1 True n2\n", "b 1 True n2\n"] * 2


def test_program_arguments_are_all_that_follows_the_script(tmp_path):
    script = write(tmp_path, "argv.py", "import sys\nprint(sys.argv[1:])\n")
    done = swarm_cli("run", "--nodes", "1", script, "8", "--trace", cwd=tmp_path,
                     timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['8', '--trace']\n"
