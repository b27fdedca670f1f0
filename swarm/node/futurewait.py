"""Waiting for futures without moving: Future.done(), Future.get(timeout=), swarm.wait and
swarm.as_completed (the user's side is swarm/futures.py).

A future's result lives on its home node (tasks.py). Which futures are done is a question to
their homes - one per home node however many futures it holds (action `futures-done`) - that
never moves the program. Waiting for some to finish parks the program where it is: each home
holding pending futures is asked to answer once one of them finishes (`futures-wait`, bounded
by HOME_WAIT so that the question never outlives the cluster's hop_timeout: it is asked
again), the futures of this node wake it directly, and a timer thread wakes it at the
deadline. Whatever wakes it first, it asks again which are done and decides.

Discussion: a timed wait parks on a helper that sleeps in a thread (kernel.run_in_thread):
the kernel's loop has no timers of its own, and timed waits are rare next to hops and
questions, so a thread each costs less than a timer wheel in the loop everyone runs.
"""

from __future__ import annotations

import time

from swarm.errors import TaskFailed
from swarm.node.asking import ask

FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"
ACTIONS = frozenset({"futures-done", "futures-wait", "futures-get"})
FETCH_BYTES = 64 * 1024  # a finished task's result up to this size is fetched by get()
NOT_READY = object()  # fetch_if_done(): not finished, or too large to fetch


def _home_wait(node) -> float:
    """How long a home keeps a `futures-wait` question before answering anyway."""
    return max(0.5, node.config.hop_timeout / 2)


def done_here(node, ids) -> dict[str, bool]:
    """{id: failed} for the futures among `ids` whose result is stored on this node."""
    data, out = node.machine.data, {}
    for future_id in ids:
        if data.has(future_id):
            out[future_id] = data.read(future_id)[0] == "error"
    return out


def which_done(node, futures) -> dict[str, bool]:
    """{id: failed} of the futures that are done, asking each home node once."""
    by_home: dict[str, list[str]] = {}
    for f in futures:
        by_home.setdefault(f.hint, []).append(f.id)
    out: dict[str, bool] = {}
    for home, ids in by_home.items():
        if home == node.name:
            out.update(done_here(node, ids))
        else:
            _, answer = ask(node, home, "futures-done", None, ids)
            out.update(answer)
    return out


def fetch_if_done(node, future):
    """A finished task's result, if it is small (FETCH_BYTES), asked of its home node; else
    NOT_READY (get() then moves the program there to wait, or to read a large value). Raises
    TaskFailed if the task raised.

    Discussion: get() moves to the result only when that is worth it. A loop gathering
    2,000 results in order would otherwise move the program - the list of futures, the
    results so far - once per future: quadratic in the number of futures. Reading a small
    finished result is a question and an answer; waiting for an unfinished one, or reading
    a large one, is still done where the result is."""
    _, answer = ask(node, future.hint, "futures-get", None, future.id)
    if answer[0] != "done":
        return NOT_READY
    outcome = answer[1]
    if outcome[0] == "error":
        raise TaskFailed(outcome[1], outcome[2])
    return outcome[1]


def serve(node, action: str, arg):
    """A peer's question about futures whose home is this node."""
    if action == "futures-done":
        return done_here(node, arg)
    if action == "futures-get":
        data = node.machine.data
        if not data.has(arg):
            return ("pending",)
        blob = data.blob(arg)
        if blob is not None and len(blob) > FETCH_BYTES:
            return ("large",)
        return ("done", data.read(arg))
    ids, seconds = arg  # futures-wait: answer once one is done, or after `seconds`
    done = done_here(node, ids)
    if not done:
        _park(node, [(node.name, ids)], time.monotonic() + seconds)
        done = done_here(node, ids)
    return done


def wait(node, futures, timeout: float | None, return_when: str) -> tuple[set, set]:
    """concurrent.futures.wait for the program's futures: (done, not_done)."""
    if return_when not in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
        raise ValueError(f"return_when must be FIRST_COMPLETED, FIRST_EXCEPTION or "
                         f"ALL_COMPLETED, not {return_when!r}")
    futures = set(futures)
    deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
    while True:
        state = which_done(node, futures)
        done = {f for f in futures if f.id in state}
        pending = futures - done
        if not pending or (return_when == FIRST_COMPLETED and done) or \
                (return_when == FIRST_EXCEPTION and any(state[f.id] for f in done)):
            return done, pending
        if deadline is not None and time.monotonic() >= deadline:
            return done, pending
        by_home: dict[str, list[str]] = {}
        for f in pending:
            by_home.setdefault(f.hint, []).append(f.id)
        _park(node, list(by_home.items()), deadline)


def get(node, future_id: str, timeout: float):
    """A future's result on its home node (this one), waiting at most `timeout` seconds:
    TimeoutError after that, TaskFailed if the task raised."""
    deadline = time.monotonic() + max(0.0, timeout)
    data = node.machine.data
    while not data.has(future_id):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the task of future {future_id} was not done within "
                               f"{timeout:g} s")
        _park(node, [(node.name, [future_id])], deadline)
    outcome = data.read(future_id)
    if outcome[0] == "error":
        raise TaskFailed(outcome[1], outcome[2])
    return outcome[1]


def _park(node, homes: list[tuple[str, list[str]]], deadline: float | None) -> None:
    """Park the running greenlet until a future of `homes` ({home: ids}) may have finished,
    or the deadline has passed (None: no deadline)."""
    kernel, data = node.kernel, node.machine.data
    waiters: list = []

    def wake(*_) -> None:
        for callback in waiters:
            callback()

    for home, ids in homes:
        if home == node.name:
            for future_id in ids:
                data.awaiting.setdefault(future_id, []).append(wake)
        else:
            left = None if deadline is None else deadline - time.monotonic()
            seconds = _home_wait(node) if left is None else min(left, _home_wait(node))
            kernel.spawn(_ask_home, node, home, ids, seconds, wake)
    if deadline is not None:
        kernel.spawn(_timer, node, deadline, wake)
    kernel.wait_on(waiters)


def _ask_home(node, home: str, ids: list[str], seconds: float, wake) -> None:
    try:
        ask(node, home, "futures-wait", None, (ids, max(0.0, seconds)))
    except Exception:  # no answer, a node gone: the waiter asks again (and fails there)
        pass
    wake()


def _timer(node, deadline: float, wake) -> None:
    left = deadline - time.monotonic()
    if left > 0:
        node.kernel.run_in_thread(time.sleep, left)
    wake()
