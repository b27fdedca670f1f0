"""Single-Ref operations logged by the programs that make them, read back as a history
(tests/faults/test_linearizable_kill.py, tests/test_grow.py; checked by linear.py)."""

import json

from tests.histories import linear

PROGRAM = """
import json, random, sys, time
from swarm.refs import Ref

refs = [Ref._handle(*h) for h in json.loads(sys.argv[1])]
name, path, seed = sys.argv[2], sys.argv[3], int(sys.argv[4])


def log(*record):
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\\n")


rng = random.Random(seed)
for j in range(int(sys.argv[5])):
    k = rng.randrange(len(refs))
    f = rng.choice(("get", "set", "update"))
    arg = seed * 1000 + j if f == "set" else None
    log("call", name, j, k, f, arg, time.monotonic())
    try:
        if f == "get":
            result = refs[k].get()
        elif f == "set":
            result = refs[k].set(arg)
        else:
            result = refs[k].update(lambda v: v + 1)
    except Exception as e:
        log("error", name, j, repr(e), time.monotonic())
    else:
        log("ret", name, j, result, time.monotonic())
RESULT = name
"""


def inc(v):
    return v + 1


def read_history(path) -> list[linear.Op]:
    """The logged calls and returns as operations. A program that runs again after a crash
    (from the hop it last arrived by) logs again what it logged since: a second call of
    operation j (it ran again from before j), or a second return of j (from inside j: a hop
    to the Ref's node). What it logged after that point the first time is of unknown outcome
    until it logs it again; an operation logged again is one operation, from its first call
    to its last return - its effect must be there once (a write asked of another node again
    is answered as the first time, not done again: docs/nodes.md). An error, or a call never
    answered, is of unknown outcome."""
    entries: list[dict] = []
    mine: dict = {}  # program -> {j: its latest entry}

    def unknown(name: str, after: int) -> None:
        for j, entry in mine.get(name, {}).items():
            if j > after:  # (kept: the same operation if the program asks it again)
                entry.update(end=None, result=None)

    with open(path) as lines:
        for line in lines:
            kind, name, j, *rest = json.loads(line)
            if kind == "call":
                unknown(name, j)
                k, f, arg, start = rest
                again = mine.get(name, {}).get(j)
                if again is not None:  # (the same operation, asked again)
                    again.update(end=None, result=None)
                    continue
                entry = dict(name=name, k=k, f=f, arg=arg, start=start, end=None, result=None)
                entries.append(entry)
                mine.setdefault(name, {})[j] = entry
                continue
            unknown(name, j)
            entry = mine[name][j]
            if kind == "ret":
                entry.update(result=rest[0], end=rest[1])
            else:
                entry.update(result=None, end=None)
    return [linear.Op(f"{e['name']}#{i}", e["f"], inc if e["f"] == "update" else e["arg"],
                      e["result"], e["start"], e["end"], key=e["k"])
            for i, e in enumerate(entries)]


def start_clients(config, program: str, handles: list, path, names: list[str], ops: int,
                  clients: int = 4) -> tuple[list, list[str]]:
    """`clients` threads, each with a connection of its own, running PROGRAM (at `program`)
    once per name of its share of `names`, `ops` operations each, logging to `path`: (the
    started threads, the errors they meet - filled as they run)."""
    import threading

    from swarm.client import Cluster

    errors: list[str] = []

    def client(mine) -> None:
        c = Cluster(config)
        try:
            for name in mine:
                o = c.run_file(program, argv=[json.dumps(handles), name, str(path), name[1:],
                                              str(ops)], timeout=120)
                if o.error:
                    errors.append(f"{name}: {o.error}")
        finally:
            c.close()

    threads = [threading.Thread(target=client, args=(names[i::clients],))
               for i in range(clients)]
    for t in threads:
        t.start()
    return threads, errors
