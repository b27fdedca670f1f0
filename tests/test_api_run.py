"""The Python API: Cluster.run(fn, *args, **kwargs) for functions of modules and of __main__
(a script, a notebook cell), submit/run_file with the same arguments, connect() as a context
manager, close() against shutdown()."""

import inspect
import math
import os
import subprocess
import sys
import threading

import pytest
from helpers import ROOT, wait_for, write

import swarm
from swarm.calls import CallError
from swarm.client import Cluster
from swarm.embedded import local_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with local_cluster(2, directory=str(tmp_path_factory.mktemp("api"))) as c:
        yield c


BEEKEEPING = '''\
"""A module of the user's: shipped with the call (it is not installed on the nodes)."""
from swarm import Ref, here


class Hive:
    def __init__(self, bees):
        self.bees = bees

    def __eq__(self, other):
        return isinstance(other, Hive) and other.bees == self.bees


def count(stock, extra=0):
    r = Ref(stock, at="n2")              # the call moves to n2 with the Ref
    return Hive(sum(r.get()) + extra), here()


def swarm_out(name):
    raise LookupError(f"no queen in {name}")


def leave(code):
    import sys
    sys.exit(code)
'''


@pytest.fixture(scope="module")
def beekeeping(tmp_path_factory):
    where = tmp_path_factory.mktemp("user")
    write(where, "beekeeping.py", BEEKEEPING)
    sys.path.insert(0, str(where))
    import beekeeping

    yield beekeeping
    sys.path.remove(str(where))
    sys.modules.pop("beekeeping", None)


def test_run_an_installed_function(cluster):
    assert cluster.run(math.factorial, 20) == math.factorial(20)
    assert cluster.run(os.path.join, "a", "b") == "a/b"


def test_run_a_users_function_that_migrates(cluster, beekeeping):
    hive, where = cluster.run(beekeeping.count, [1, 2, 3], extra=4)
    assert hive == beekeeping.Hive(10) and isinstance(hive, beekeeping.Hive)
    assert where == "n2"


def test_the_functions_exception_is_raised_here(cluster, beekeeping):
    with pytest.raises(LookupError, match="no queen in north") as caught:
        cluster.run(beekeeping.swarm_out, "north")
    note = caught.value.__notes__[0]
    assert note.startswith("[swarm] raised on the cluster:\nTraceback (most recent call last):")
    assert f'{beekeeping.__file__}", line 19, in swarm_out' in note
    with pytest.raises(SystemExit) as leaving:
        cluster.run(beekeeping.leave, 4)
    assert leaving.value.code == 4


def test_what_cannot_be_sent_is_refused_here(cluster):
    with pytest.raises(CallError, match="is defined inside a function or is a lambda"):
        cluster.run(lambda: 1)
    with pytest.raises(CallError, match="an argument cannot be sent to the cluster"):
        cluster.run(len, threading.Lock())


def test_submit_call_done_and_result(cluster, beekeeping):
    program = cluster.submit_call(beekeeping.count, [5], extra=1)
    assert wait_for(lambda: cluster.done(program), timeout=60)
    hive, where = cluster.result(program)
    assert hive.bees == 6 and where == "n2"


def test_submit_and_run_file_take_the_same_arguments_in_the_same_order(cluster, tmp_path):
    script = write(tmp_path, "args.py", "import sys\nRESULT = sys.argv[1:]\n")
    assert cluster.run_file(script, ["a", "b"]).value == ["a", "b"]
    program = cluster.submit(script, ["c"])
    assert cluster.results([program])[program].value == ["c"]
    run_file = list(inspect.signature(Cluster.run_file).parameters)
    submit = list(inspect.signature(Cluster.submit).parameters)
    assert run_file[:3] == submit[:3] == ["self", "path", "argv"]


DRIVER = '''\
import linecache
import math
import sys

import swarm
from swarm import Ref, here

RATE = 3
HONEY = {"north": 2, "south": 5}


class Jar:
    def __init__(self, grams):
        self.grams = grams

    def __repr__(self):
        return f"Jar({self.grams})"


def weigh(jar):
    return jar.grams * RATE


def harvest(hive, jars, bonus=0):
    r = Ref([weigh(j) for j in jars], at="n2")
    print("harvesting", hive, "on", here())
    return Jar(sum(r.get()) + HONEY[hive] + bonus), here(), math.floor(2.5)


# a notebook cell: its source kept by linecache, as IPython keeps a cell's
CELL = """
def cell_fn(x):
    return [Jar(x), weigh(Jar(x))]
"""
linecache.cache["<cell-1>"] = (len(CELL), None, CELL.splitlines(True), "<cell-1>")
exec(compile(CELL, "<cell-1>", "exec"), globals())

# a function typed at the interactive prompt of Python < 3.13: no source anywhere
exec(compile("def typed(x):\\n    return x\\n", "<stdin>", "exec"), globals())

with swarm.connect(sys.argv[1]) as c:
    print(c.run(harvest, "south", [Jar(1), Jar(2)], bonus=1))
    print(c.run(cell_fn, 4))
    try:
        c.run(typed, 1)
    except TypeError as e:
        print("refused:", e)
'''


def test_run_a_function_of_main_a_script_or_a_notebook_cell(cluster, tmp_path):
    driver = write(tmp_path, "driver.py", DRIVER)
    done = subprocess.run([sys.executable, driver, cluster.config.path], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "harvesting south on n2",
        "(Jar(15), 'n2', 2)",        # a Jar of the driver's own __main__ came back
        "[Jar(4), 12]",
        "refused: cannot find the source of typed, defined in __main__ where Python kept no "
        "source (the interactive interpreter before 3.13): define it in a module (a .py "
        "file) and import it, or in a notebook cell"]


def test_connect_is_a_context_manager_and_close_leaves_the_nodes_running(cluster):
    with swarm.connect(cluster.config.path) as client:
        assert client.run(math.gcd, 12, 18) == 6
    other = Cluster(cluster.config)
    try:  # the nodes of the shared cluster still answer after that client closed
        assert other.ping(timeout=5) == set(cluster.config.names)
    finally:
        other.close()
    assert not hasattr(Cluster, "stop")  # stopping the nodes is said as shutdown()


def test_shutdown_stops_the_nodes_of_a_connected_client(tmp_path):
    with local_cluster(1, directory=str(tmp_path / "c")) as owner:
        client = swarm.connect(owner.config.path)
        client.shutdown()
        assert owner.procs["n1"].wait(timeout=30) == 0



def test_a_local_clusters_nodes_stop_when_its_process_is_killed(tmp_path):
    """SIGKILL leaves a script no time to stop the nodes of its `swarm.local_cluster`: they
    notice their parent is gone and stop by themselves (before: they ran on for ever)."""
    script = write(tmp_path, "lc.py", "import sys, time, swarm\n"
                   "with swarm.local_cluster(2) as c:\n"
                   "    print(*[p.pid for p in c.procs.values()], flush=True)\n"
                   "    time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, script], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    proc.kill()
    proc.wait(10)

    def gone(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(")")[-1].split()[0] == "Z"  # (a zombie: it ended)
        except FileNotFoundError:
            return True

    assert wait_for(lambda: all(gone(p) for p in pids), timeout=30), pids
