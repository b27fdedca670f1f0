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
from swarm.node import remoteerrors
from swarm.node.asking import ask

FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"
ACTIONS = frozenset({"futures-done", "futures-wait", "futures-get"})
FETCH_BYTES = 64 * 1024  # a finished task's result up to this size is fetched by get()
AHEAD_IDS = 256  # futures of the same home a get() asks about besides its own
AHEAD_BYTES = 1 << 20  # results read ahead in one answer, at most (their encoded size)
AHEAD_KEPT = 10_000  # results read ahead and not yet got that a program keeps, at most
NOT_READY = object()  # fetch_if_done(): not finished, or too large to fetch


def _home_wait(node) -> float:
    """How long a home keeps a `futures-wait` question before answering anyway."""
    return max(0.5, node.config.hop_timeout / 2)


def done_here(node, ids) -> dict[str, bool]:
    """{id: failed} for the futures among `ids` whose result is stored on this node."""
    data, out = node.machine.data, {}
    for future_id in ids:
        if data.has(future_id):
            out[future_id] = outcome_of(future_id, data.read(future_id))[0] == "error"
    return out


def outcome_of(future_id: str, stored):
    """A future's outcome as stored on its home - ("ok", value) or ("error", message,
    traceback) - checked: ValueError naming the id if what is stored under it is not one
    (a Ref's id given to Future(id, home))."""
    if isinstance(stored, tuple) and (len(stored) == 2 and stored[0] == "ok" or
                                      len(stored) == 3 and stored[0] == "error"):
        return stored
    raise ValueError(f"{future_id!r} is not the id of a future: what its node holds under it "
                     f"is not a task's outcome (a Ref's id given to Future(id, home)?)")


def ask_home(node, home: str, action: str, arg):
    """Ask a future's home `action` about futures: its answer, or the error it raised there
    (as remoteerrors rebuilds it - before, an error answer was taken as the answer: None,
    and the program failed on it with a TypeError of this module's, or, waiting, asked
    again at once for ever)."""
    reply, answer = ask(node, home, action, None, arg)
    if reply.get("error"):
        ids = arg[0] if action == "futures-wait" else arg
        raise remoteerrors.rebuild(reply, home, f"{action} for {ids!r}")
    return answer


def which_done(node, futures) -> dict[str, bool]:
    """{id: failed} of the futures that are done, asking each home node once."""
    by_home: dict[str, list[str]] = {}
    for f in futures:
        by_home.setdefault(node.machine.route(f.hint), []).append(f.id)
    out: dict[str, bool] = {}
    for home, ids in by_home.items():
        if home == node.name:
            out.update(done_here(node, ids))
        else:
            out.update(ask_home(node, home, "futures-done", ids))
    return out


def fetch_if_done(node, future):
    """A finished task's result, if it is small (FETCH_BYTES), asked of its home node; else
    NOT_READY (get() then moves the program there to wait, or to read a large value). Raises
    TaskFailed if the task raised.

    Discussion: get() moves to the result only when that is worth it. A loop gathering
    2,000 results in order would otherwise move the program - the list of futures, the
    results so far - once per future: quadratic in the number of futures. Reading a small
    finished result is a question and an answer (read ahead with others: _ask_ahead);
    waiting for an unfinished one, or reading a large one, is still done where the result
    is."""
    prog = node.kernel.current_context()
    outcome = prog.results.pop(future.id, None) if prog is not None else None
    if outcome is None:
        outcome = _ask_ahead(node, prog, future)
        if outcome in ("pending", "large"):
            return NOT_READY
    if outcome[0] == "error":
        raise TaskFailed(outcome[1], outcome[2])
    return outcome[1]


def _ask_ahead(node, prog, future):
    """Ask the future's home for its outcome ("pending", "large") and for those of
    up to AHEAD_IDS other futures of the same home this program spawned and has not read:
    the finished small ones come back too and are kept for their get().

    Discussion: reading ahead changes nothing a program can see. A future's outcome is
    written once and never changes, so reading it early returns what reading it later
    would; each result read ahead is given to one get() (a second get() asks again, for a
    fresh copy, as before). Gathering 2,000 results in order asks each home a few times
    instead of once per future. What is read ahead stays on this node with the program's
    state here: a program that hops leaves it (its get()s then ask again)."""
    home = future.hint
    pending = prog.spawned.get(home) if prog is not None else None
    if not pending or len(prog.results) >= AHEAD_KEPT:
        ids = future.id
    else:
        ids = [future.id]
        for other in pending:
            if len(ids) > AHEAD_IDS:
                break
            if other != future.id:
                ids.append(other)
    answer = ask_home(node, home, "futures-get", ids)
    if answer[0] != "done":
        return answer[0]  # pending, large
    if pending is not None:
        pending.pop(future.id, None)
    if len(answer) > 2:  # (done, outcome, {id: outcome} of others done)
        node.machine.count("read_ahead", len(answer[2]))
        prog.results.update(answer[2])
        for other in answer[2]:
            pending.pop(other, None)
    return answer[1]


def serve(node, action: str, arg):
    """A peer's question about futures whose home is this node."""
    if action == "futures-done":
        return done_here(node, arg)
    if action == "futures-get":  # arg: an id, or [id, *others to read ahead]
        wanted, others = (arg, ()) if isinstance(arg, str) else (arg[0], arg[1:])
        outcome, _ = _small_outcome(node, wanted)
        if isinstance(outcome, str):
            return (outcome,)
        if isinstance(arg, str):
            return ("done", outcome)
        ahead, total = {}, 0
        for other in others:
            got, size = _small_outcome(node, other)
            if not isinstance(got, str):
                total += size
                if total > AHEAD_BYTES:
                    break
                ahead[other] = got
        return ("done", outcome, ahead)
    ids, seconds = arg  # futures-wait: answer once one is done, or after `seconds`
    done = done_here(node, ids)
    if not done:
        _park(node, [(node.name, ids)], time.monotonic() + seconds)
        done = done_here(node, ids)
    return done


def _small_outcome(node, future_id: str) -> tuple:
    """(a future's outcome stored here, its encoded size) if small enough to send; else
    ("pending" or "large", size)."""
    data = node.machine.data
    blob = data.blob(future_id)  # (one look in the store, not three: has, blob, read)
    if blob is None:
        return "pending", 0
    size = data.nbytes(blob)
    if size > FETCH_BYTES:
        return "large", size
    # (decoded for the answer: outcomes never change)
    return outcome_of(future_id, data.private(blob)), size


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
            by_home.setdefault(node.machine.route(f.hint), []).append(f.id)
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
    outcome = outcome_of(future_id, data.read(future_id))
    if outcome[0] == "error":
        raise TaskFailed(outcome[1], outcome[2])
    return outcome[1]


def _park(node, homes: list[tuple[str, list[str]]], deadline: float | None) -> None:
    """Park the running greenlet until a future of `homes` ({home: ids}) may have finished,
    or the deadline has passed (None: no deadline). Raises the error a home answered."""
    kernel, data = node.kernel, node.machine.data
    waiters: list = []
    errors: list = []

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
            kernel.spawn(_ask_home, node, home, ids, seconds, wake, errors)
    if deadline is not None:
        kernel.spawn(_timer, node, deadline, wake)
    kernel.wait_on(waiters)
    if errors:
        raise errors[0]


def _ask_home(node, home: str, ids: list[str], seconds: float, wake, errors: list) -> None:
    try:
        ask_home(node, home, "futures-wait", (ids, max(0.0, seconds)))
    except Exception as e:  # an error there, a node gone: the waiter raises it
        errors.append(e)
    wake()


def _timer(node, deadline: float, wake) -> None:
    left = deadline - time.monotonic()
    if left > 0:
        node.kernel.run_in_thread(time.sleep, left)
    wake()
