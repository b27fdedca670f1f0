"""Errors raised on the node a program asked instead of moving (the fetch policy), on real
nodes (swarm/node/remoteerrors.py): the program gets the error it gets under the migrate
policy - its type and message - with a note naming the node; an error of a type not sent by
name arrives as the nearest type that is (a JSONDecodeError as a ValueError), and one of
the program's own classes as RemoteError naming it and the node. (Before: a KeyError whatever
the cause, its message "Type: message".) A full disk's StorageFull: test_full_disk.py."""

from helpers import write

import swarm

ERRORS = """
import json
import operator
import sys
from swarm import Ref, move_to

def odd():  # (a class of the program's own, made where it is called)
    raise type("OddError", (Exception,), {})("an odd value")


class Raises:
    \"\"\"Unpickling it calls fn(*args): where it is unpickled, that raises.\"\"\"
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


move_to("n2")
move_to("n1")           # (n2 keeps the program's source: `odd` unpickles there)
gone = Ref(2, at="n2")
gone.delete()
caught = []
try:
    gone.get()          # moved to n2 (migrate), asked of n2 (fetch)
except KeyError as e:
    caught.append(["KeyError", e.args[0], gone.id])
if sys.argv[1] == "fetch":   # (a value that cannot be unpickled cannot move either)
    r = Ref(1, at="n2")
    for value in (Raises(odd), Raises(operator.truediv, 1, 0), Raises(json.loads, "{")):
        try:
            r.set(value)
        except Exception as e:
            caught.append([type(e).__name__, str(e), getattr(e, "__notes__", []),
                           getattr(e, "node", None), getattr(e, "error_type", None)])
    caught.append(r.get())
RESULT = caught
"""


def test_an_error_raised_where_the_program_asked_is_the_error_it_would_meet_there(tmp_path):
    path = write(tmp_path, "errors.py", ERRORS)
    with swarm.local_cluster(2) as cluster:
        moved = cluster.run_file(path, ["migrate"], timeout=60)
        asked = cluster.run_file(path, ["fetch"], policy="fetch", timeout=60)
    assert moved.error is None and asked.error is None, (moved.traceback, asked.traceback)
    for out in (moved, asked):  # the same error, whether the program moved or asked
        kind, message, ref_id = out.value[0]
        assert (kind, message) == ("KeyError", f"Ref({ref_id!r}) was deleted"), out.value
    odd, div, decode, value = asked.value[1:]
    assert div[:2] == ["ZeroDivisionError", "division by zero"], div
    assert div[2] and div[2][0].startswith("(raised on n2 while it did set of Ref('n2."), div
    assert decode[0] == "ValueError" and decode[1].startswith("Expecting property name"), \
        decode
    assert "there it was json.decoder.JSONDecodeError" in decode[2][0], decode
    assert odd[0] == "RemoteError" and odd[3] == "n2" and odd[4].endswith("OddError"), odd
    assert odd[1].startswith("OddError: an odd value (raised on n2 while it did set of "
                             "Ref('n2."), odd
    assert value == 1  # none of them was set
