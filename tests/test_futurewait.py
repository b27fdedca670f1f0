"""A future's home answering a question about it with an error, on real nodes
(swarm/node/futurewait.py): the program raises that error, naming the future and the node,
whether it asks if the future is done, waits for it, or gets its result - under the migrate
and the fetch policy. (Before: the error answer was taken as the answer, None, and the
program failed with "TypeError: 'NoneType' object is not iterable" of futurewait's own
code, or got a KeyError under the fetch policy; a waiter whose question `futures-wait` was
answered with an error asked again at once, for ever.)"""

import pytest
from helpers import write

import swarm

NOT_A_FUTURE = """
import swarm
from swarm import Future, Ref, move_to
r = Ref(5, at="n2")
move_to("n1")              # (asks n2 about f from n1, under either policy)
f = Future(r.id, "n2")     # not a future: a Ref's id
errors = []
for what in ("done", "wait", "get"):
    try:
        if what == "done":
            f.done()
        elif what == "wait":
            swarm.wait([f], timeout=5)
        else:
            f.get()
    except Exception as e:
        errors.append([what, type(e).__name__, str(e), getattr(e, "__notes__", [])])
RESULT = r.id, errors
"""


@pytest.mark.parametrize("policy", ["migrate", "fetch"])
def test_an_error_answered_about_a_future_is_raised_in_the_program(tmp_path, policy):
    with swarm.local_cluster(2) as cluster:
        out = cluster.run_file(write(tmp_path, "bad.py", NOT_A_FUTURE), policy=policy,
                               timeout=60)
    assert out.error is None, out.traceback
    ref_id, errors = out.value
    assert [e[:2] for e in errors] == [["done", "ValueError"], ["wait", "ValueError"],
                                       ["get", "ValueError"]], errors
    for _, _, message, notes in errors:
        assert message.startswith(f"{ref_id!r} is not the id of a future: what its node "
                                  f"holds under it is not a task's outcome"), errors
        assert notes and notes[0].startswith("(raised on n2 while it did "), errors
