"""A program's own process state on the nodes (issue 16, item 3), its exit (item 2) and
futures inside programs (item 4): each script runs with `swarm run` as a process, compared
with `python` on the same script where Python can run it; programs that share a node run at
once through the Python API."""

import os
import subprocess
import sys
import textwrap

from helpers import ROOT, run_at_once, swarm_cli, write

import swarm

ENV = dict(os.environ, PYTHONPATH=ROOT)

STATE = '''\
import os, pickle, random, sys
from swarm import move_to  # swarm


class Bee:
    def __init__(self, name):
        self.name = name


def buzz(x):
    return x * 2


def read(path):
    with open(path) as f:
        return f.read().strip()


os.environ["BEE"] = "honey"
del os.environ["HOME"]
random.seed(42)
sys.path.append("extra-dir")
os.chdir("sub")
move_to("n2")  # swarm
print(os.environ.get("BEE"), os.environ.get("HOME"), os.getcwd().endswith("sub"))
print(read("data.txt"))                          # relative to the directory it is in now
print(random.random(), sys.path[-1])
move_to("n3")  # swarm
print(pickle.loads(pickle.dumps(Bee("maya"))).name, pickle.loads(pickle.dumps(buzz))(21))
print(sys.modules["__main__"].__name__, __name__)
os.chdir("..")
move_to("n1")  # swarm
print(os.path.basename(os.getcwd()), random.random())
'''


def plain_source(source: str) -> str:
    return "\n".join(line[:len(line) - len(line.lstrip())] + "pass"
                     if line.endswith("# swarm") else line for line in source.splitlines())


def test_environment_directory_path_random_and_main_travel_as_in_one_process(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.txt").write_text("read from sub\n")
    script = write(tmp_path, "state.py", STATE)
    ours = swarm_cli("run", "--nodes", "3", script, cwd=tmp_path)
    theirs = subprocess.run([sys.executable, write(tmp_path, "state.py", plain_source(STATE))],
                            cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=60)
    assert (ours.returncode, ours.stdout, ours.stderr) == \
        (theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.stdout.startswith("honey None True\nread from sub\n")


def test_relative_paths_resolve_where_the_program_was_started_on_a_running_cluster(tmp_path):
    """`swarm up` run in one directory, the program started from another: its relative
    paths are the second's, on every node (the issue: they were the first's)."""
    elsewhere, here = tmp_path / "cluster", tmp_path / "work"
    elsewhere.mkdir()
    here.mkdir()
    (here / "words.txt").write_text("bumble\n")
    (elsewhere / "words.txt").write_text("wrong file\n")
    script = write(here, "read.py", "from swarm import move_to, nodes\n"
                                    "def read(path):\n"
                                    "    with open(path) as f:\n"
                                    "        return f.read().strip()\n"
                                    "for n in nodes():\n"
                                    "    move_to(n)\n"
                                    "    print(n, read('words.txt'))\n")
    up = swarm_cli("up", "--nodes", "2", "--dir", ".swarm", cwd=elsewhere)
    assert up.returncode == 0, up.stderr
    try:
        done = swarm_cli("run", "--dir", str(elsewhere / ".swarm"), script, cwd=here)
    finally:
        swarm_cli("down", "--dir", ".swarm", cwd=elsewhere)
    assert (done.returncode, done.stdout, done.stderr) == (0, "n1 bumble\nn2 bumble\n", "")


SHARER = '''\
import os, random, sys, time
from swarm import here
me = sys.argv[1]
os.environ["WHO"] = me
os.makedirs(me, exist_ok=True)
os.chdir(me)
random.seed(me)
sys.path.insert(0, me)
expected = [random.random() for _ in range(6)]
random.seed(me)
seen = []
for i in range(6):
    time.sleep(0.03)                  # the other program runs meanwhile, on the same node
    seen.append((os.environ["WHO"], os.path.basename(os.getcwd()), sys.path[0], sys.argv[1],
                 random.random() == expected[i]))
print(set(seen), here())
'''


def test_programs_on_one_node_each_keep_their_own_process_state(tmp_path):
    script = write(tmp_path, "sharer.py", SHARER)
    os.chdir(tmp_path)  # (the client's directory is the programs')
    try:
        with swarm.local_cluster(1) as cluster:
            a, b = run_at_once(cluster, [(script, ["alpha"]), (script, ["beta"])])
    finally:
        os.chdir(ROOT)
    assert a.error is None and b.error is None, (a.traceback, b.traceback)
    assert a.stdout == "{('alpha', 'alpha', 'alpha', 'alpha', True)} n1\n"
    assert b.stdout == "{('beta', 'beta', 'beta', 'beta', True)} n1\n"


DRAWS = '''\
import random
from random import randint, random as draw   # bound before the program drew anything
from swarm import move_to
twin = random.Random("bees")
expected = [twin.random(), twin.randint(1, 10**9), twin.random(), twin.randint(1, 10**9)]
random.seed("bees")
seen = [random.random()]
move_to("n2")
seen.append(randint(1, 10**9))
move_to("n1")
seen.append(draw())
move_to("n2")
seen.append(random.randint(1, 10**9))
RESULT = seen == expected
'''


def test_random_drawn_through_names_imported_before_the_first_draw_is_one_generator(
        tmp_path):
    """A program gets its generator at its first draw (process.FirstDraw): names it imported
    from `random` before then draw from that same generator, on every node it hops to, as in
    one process - and so do two programs drawing on one node, each from its own."""
    script = write(tmp_path, "draws.py", DRAWS)
    with swarm.local_cluster(2) as cluster:
        a, b = run_at_once(cluster, [(script, []), (script, [])])
        assert (a.error, a.value, b.error, b.value) == (None, True, None, True), \
            (a.traceback, b.traceback)


def test_the_nodes_share_one_str_hash_seed(tmp_path):
    script = write(tmp_path, "hashes.py", textwrap.dedent('''\
        from swarm import move_to
        def made_here():                  # a set built on the node it is on
            return hash("bee"), list({"bumble", "honey", "mason", "carpenter", "sweat"})
        first = made_here()
        move_to("n2")
        print(first == made_here())
        '''))
    done = swarm_cli("run", "--nodes", "2", script, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "True\n"), done.stderr


def test_a_node_started_with_another_hash_seed_says_so(tmp_path):
    from swarm.client import Cluster
    from swarm.embedded import start_nodes
    from swarm.node.config import local_config

    config = local_config(1, str(tmp_path))
    config.save(str(tmp_path / "cluster.toml"))
    os.environ["PYTHONHASHSEED"] = str((config.hash_seed + 1) % 2**32)
    try:  # start_nodes gives the cluster's seed: a node started by hand with another
        config.hash_seed, seed = None, config.hash_seed
        procs = start_nodes(config)
        config.hash_seed = seed
    finally:
        del os.environ["PYTHONHASHSEED"]
    client = Cluster(config)
    try:
        client.wait_ready()
        problem = client.status()[0]["hash_seed_problem"]
        client.shutdown()
    finally:
        client.close()
        procs["n1"].wait(timeout=30)
    assert f"not the cluster's hash_seed {seed}" in problem
    assert "PYTHONHASHSEED" in (tmp_path / "n1.log").read_text()


EXITS = [("sys.exit()", None, 0, ""), ("sys.exit(3)", 3, 3, ""),
         ("sys.exit('no bees today')", "no bees today", 1, "no bees today\n"),
         ("raise SystemExit(True)", 1, 1, ""), ("sys.exit([1, 2])", "[1, 2]", 1, "[1, 2]\n")]


def test_the_result_carries_system_exits_code(tmp_path):
    """The node sends SystemExit's code itself (`exit`), the client does not parse it."""
    with swarm.local_cluster(2) as cluster:
        for i, (call, code, status, text) in enumerate(EXITS):
            script = write(tmp_path, f"exit{i}.py", f"import sys\nfrom swarm import move_to\n"
                                                    f"move_to('n2')\n{call}\n")
            outcome = cluster.run_file(script, timeout=60)
            assert outcome.ended["exit"] == code
            assert outcome.exit_status() == (status, text)
            plain = subprocess.run([sys.executable, "-c", f"import sys\n{call}"],
                                   capture_output=True, text=True, timeout=60)
            assert (plain.returncode, plain.stderr) == (status, text)


def test_a_traceback_names_the_node_of_every_frame_and_of_the_error(tmp_path):
    script = write(tmp_path, "where.py", textwrap.dedent('''\
        from swarm import Ref, move_to


        def check(r):
            move_to("n1")                     # back on n1 before the error
            if r.get() < 0:                   # (the Ref is on n3: it moves there)
                raise ValueError("negative")


        check(Ref(-1, at="n3"))
        '''))
    done = swarm_cli("run", "--nodes", "3", script, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == textwrap.dedent(f'''\
        Traceback (most recent call last):
          File "{script}", line 10, in <module> [n3]
            check(Ref(-1, at="n3"))
          File "{script}", line 7, in check [n3]
            raise ValueError("negative")
        ValueError: negative
        (raised on n3)
        ''')


def test_a_result_that_does_not_pickle_says_so(tmp_path):
    script = write(tmp_path, "lock.py", "import threading\nRESULT = threading.Lock()\n")
    with swarm.local_cluster(1) as cluster:
        outcome = cluster.run_file(script, timeout=60)
    assert outcome.error is None and outcome.value.startswith("<unlocked _thread.lock")
    assert "RESULT (a lock) cannot be pickled" in outcome.ended["note"]
    done = swarm_cli("run", "--nodes", "1", script, cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr.startswith("[swarm] RESULT (a lock) cannot be pickled (TypeError: ")


FUTURES = '''\
import os, pathlib, time
from swarm import ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, as_completed, here, \\
    spawn, wait

def slow(i, seconds):
    time.sleep(seconds)
    if i < 0:
        raise ValueError(i)
    return i


def gated(i):
    while not os.path.exists(f"go{i}"):   # (the program's directory, on every node)
        time.sleep(0.02)
    return i


gate = spawn(slow, 1, 3)                 # still running for the tests below
quick = spawn(slow, 2, 0)
done, pending = wait([quick])            # ALL_COMPLETED: the quick one only
print(quick.done(), quick in done, pending == set(), here())
done, pending = wait([gate, quick], return_when=FIRST_COMPLETED)
print(done == {quick}, pending == {gate}, gate.done())
done, pending = wait([gate], timeout=0.1)
print(len(done), len(pending))
try:
    gate.get(timeout=0.1)                # moves to its home, waits 0.1 s there
except TimeoutError:
    print("TimeoutError on", "home" if here() == gate.home else "elsewhere")
bad = spawn(slow, -1, 0)
done, pending = wait([gate, bad], return_when=FIRST_EXCEPTION)
print(done == {bad}, bad.done())
finishing = as_completed([spawn(gated, i) for i in range(3)])
order = []
for i in (2, 0, 1):                      # each finishes once let: in this order, whatever
    pathlib.Path(f"go{i}").touch()       # the machine's load
    order.append(next(finishing).get())
print(order, list(finishing))
print(gate.get(), ALL_COMPLETED)
fs = [spawn(slow, i, 0) for i in range(2000)]
total = 0
for f in fs:                             # gathered in order: finished ones are read, no hop
    total += f.get()
print(total)
'''


def test_futures_done_wait_as_completed_and_get_with_a_timeout(tmp_path):
    script = write(tmp_path, "futures.py", FUTURES)
    done = swarm_cli("run", "--nodes", "3", "--trace", script, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "True True True n1", "True True False", "0 1", "TimeoutError on home", "True True",
        "[2, 0, 1] []", f"1 {'ALL_COMPLETED'}", str(sum(range(2000)))]
    hops = int(done.stderr.split("[swarm] ")[1].split()[0])
    # 2,008 tasks spawned (each a hop); gathering them in order moves the program a few
    # times at most (it was a hop per future: quadratic in bytes)
    assert hops < 2008 + 20, hops


def test_a_module_of_the_same_text_as_one_run_before_keeps_its_own_file(tmp_path):
    """The compiled-module registry caches by source hash; a module (or script) whose text
    equals one compiled earlier from another path still shows its own path, in __file__
    and in tracebacks."""
    text = "def where():\n    return __file__\n\n\ndef fail():\n    raise ValueError('here')\n"
    main = "import same\nfrom swarm import move_to\nmove_to('n2')\nprint(__file__)\n" \
           "print(same.where())\nsame.fail()\n"
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        write(tmp_path / d, "same.py", text)
        write(tmp_path / d, "main.py", main)
    with swarm.local_cluster(2) as cluster:
        for d in ("a", "b"):
            outcome = cluster.run_file(str(tmp_path / d / "main.py"), timeout=60)
            folder = tmp_path / d
            assert outcome.stdout == f"{folder / 'main.py'}\n{folder / 'same.py'}\n"
            assert f'File "{folder / "same.py"}", line 6, in fail [n2]' in outcome.traceback


REDIRECTED = '''\
import contextlib, io
from swarm import here
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    for i in range(20):
        print("captured", i)
        sum(range(300_000))                  # (switched out now and then: a slice is 20 ms)
print("captured", len(buf.getvalue().splitlines()), "lines on", here())
'''

PRINTING = '''\
for i in range(20):
    print("line", i)
    sum(range(300_000))
'''


def test_a_programs_redirected_output_is_its_own(tmp_path):
    """contextlib.redirect_stdout in one program never takes another's output on the same
    node (sys.stdout is swapped with the program, as its other process state)."""
    with swarm.local_cluster(1) as cluster:
        redirected, printing = run_at_once(cluster, [
            (write(tmp_path, "redirected.py", REDIRECTED), []),
            (write(tmp_path, "printing.py", PRINTING), [])])
    assert redirected.error is None and printing.error is None
    assert redirected.stdout == "captured 20 lines on n1\n"
    assert printing.stdout == "".join(f"line {i}\n" for i in range(20))


TASKS_THAT_HOP = '''\
from swarm import Ref, spawn


def twice(x):
    return Ref(x, at="n2").get() * 2                  # (the task hops to n2 and back)


print(sum(f.get() for f in [spawn(twice, i) for i in range(6)]))
'''

HOPS = '''\
import sys
from swarm import Ref, here

for i, n in enumerate(["n1", "n2", "n3", "n1"]):
    Ref(i, at=n).get()
    print(here(), sorted(m for m in sys.modules if m.startswith("__swarm")))
'''


def test_a_programs_modules_stay_its_own_after_another_programs_tasks_hopped(tmp_path):
    """A task's module (`__swarm_task__`), made again where a task that hopped arrived, was
    left in the node's sys.modules: every later program on that node carried it - and the
    other program's `__main__` it holds - in each of its hops, and a Skywriting script's
    tasks made the next Python program fail to compile on the node its hop reached
    (CompileError: hello.py:1:1, the script's text compiled under the program's file)."""
    tasks, hops = write(tmp_path, "tasks.py", TASKS_THAT_HOP), write(tmp_path, "hops.py", HOPS)
    fib = os.path.join(ROOT, "examples", "skywriting", "fib.sw")
    with swarm.local_cluster(3) as cluster:
        assert cluster.run_file(tasks, timeout=120).stdout == "30\n"
        out = cluster.run_file(hops, timeout=120)
        assert out.error is None, out.traceback
        assert out.stdout == "n1 []\nn2 []\nn3 []\nn1 []\n"
        out = cluster.run_file(fib, argv=["5"], timeout=120)
        assert out.error is None and out.value == 5, out.traceback
        out = cluster.run_file(hops, timeout=120)
        assert out.error is None, out.traceback
        assert out.stdout == "n1 []\nn2 []\nn3 []\nn1 []\n"
