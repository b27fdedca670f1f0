"""The linearizability checker (tests/histories/linear.py) on hand-made register histories -
linearizable ones it must pass, others it must reject saying which operation - and against
a brute-force search over every order on small random histories."""

import itertools
import random

import pytest

from tests.histories.linear import GET, SET, UPDATE, Op, check, check_register


def inc(v):
    return v + 1


def op(process, f, start, end, arg=None, result=None, key="x"):
    return Op(process, f, arg, result, start, end, key)


def test_a_sequential_history_is_linearizable():
    h = [op("a", SET, 0, 1, 1), op("a", GET, 2, 3, result=1), op("b", UPDATE, 4, 5, inc, 2),
         op("b", GET, 6, 7, result=2)]
    assert check(h, 0) == []


def test_a_set_overlapping_a_read_may_come_after_it():
    h = [op("a", SET, 0, 10, 1), op("b", GET, 1, 2, result=0), op("b", GET, 3, 4, result=1)]
    assert check(h, 0) == []


def test_a_stale_read_is_not_linearizable():
    h = [op("a", SET, 0, 1, 1), op("b", GET, 2, 3, result=0)]
    bad = check(h, 0)
    assert len(bad) == 1 and bad[0].key == "x"
    assert "get -> 0 by b" in bad[0].why


def test_a_new_then_old_read_is_not_linearizable():
    """b saw the set's value, then c (after b's read ended) saw the old one."""
    h = [op("a", SET, 0, 10, 1), op("b", GET, 1, 2, result=1), op("c", GET, 3, 4, result=0)]
    assert [v.key for v in check(h, 0)] == ["x"]


def test_two_updates_that_both_saw_the_initial_value_lost_one():
    h = [op("a", UPDATE, 0, 5, inc, 1), op("b", UPDATE, 1, 6, inc, 1)]
    assert len(check(h, 0)) == 1
    assert check([op("a", UPDATE, 0, 5, inc, 1), op("b", UPDATE, 1, 6, inc, 2)], 0) == []


def test_an_unknown_set_may_happen_late_or_never():
    maybe = op("a", SET, 0, None, 5)
    assert check([maybe, op("b", GET, 2, 3, result=0), op("b", GET, 4, 5, result=5)], 0) == []
    assert check([maybe, op("b", GET, 2, 3, result=0)], 0) == []
    assert check([maybe, op("b", GET, 2, 3, result=5), op("b", GET, 4, 5, result=0)], 0)


def test_an_unknown_update_may_have_happened():
    h = [op("a", UPDATE, 0, None, inc), op("b", GET, 1, 2, result=0),
         op("b", GET, 3, 4, result=1), op("c", UPDATE, 5, 6, inc, 2)]
    assert check(h, 0) == []
    assert check(h[:3] + [op("c", UPDATE, 5, 6, inc, 3)], 0)


def test_keys_are_checked_each_on_its_own():
    h = [op("a", SET, 0, 1, 1, key="x"), op("a", SET, 2, 3, 7, key="y"),
         op("b", GET, 4, 5, result=1, key="x"), op("b", GET, 4, 5, result=0, key="y")]
    bad = check(h, {"x": 0, "y": 0})
    assert [v.key for v in bad] == ["y"]


def brute_force(ops: list[Op], initial) -> bool:
    """Is there an order of the completed operations and some of the unknown ones, keeping
    real time (a before b if a ended before b started), in which the register gives what
    each returned?"""
    done = [o for o in ops if o.end is not None]
    unknown = [o for o in ops if o.end is None and o.f != GET]
    for k in range(len(unknown) + 1):
        for extra in itertools.combinations(unknown, k):
            for order in itertools.permutations(done + list(extra)):
                if any(b.end is not None and b.end < a.start
                       for i, a in enumerate(order) for b in order[i + 1:]):
                    continue
                state, good = initial, True
                for o in order:
                    if o.f == GET:
                        good = o.result == state
                    elif o.f == SET:
                        state = o.arg
                    else:
                        state = o.arg(state)
                        good = o.end is None or o.result == state
                    if not good:
                        break
                if good:
                    return True
    return False


def random_history(rng: random.Random, n: int) -> list[Op]:
    """n operations of 3 processes with random (often overlapping, sometimes equal) times and
    results drawn from a few values: some linearizable, some not."""
    ops, free = [], {p: 0 for p in "abc"}
    for _ in range(n):
        p = rng.choice("abc")
        start = free[p] + rng.randint(0, 3)
        end = None if rng.random() < 0.15 else start + rng.randint(0, 6)
        free[p] = 10**6 if end is None else end + 1  # (a process that saw an error stops)
        f = rng.choice((GET, GET, SET, UPDATE))
        arg = rng.randint(0, 3) if f == SET else (inc if f == UPDATE else None)
        result = rng.randint(0, 4) if f != SET and end is not None else None
        ops.append(op(p, f, start, end, arg, result))
    return [o for o in ops if o.start < 10**6]


@pytest.mark.parametrize("seed", range(300))
def test_agrees_with_a_brute_force_search(seed):
    rng = random.Random(seed)
    ops = random_history(rng, rng.randint(1, 6))
    assert (check_register(ops, 0) is None) == brute_force(ops, 0), ops


def test_the_random_histories_are_both_kinds():
    verdicts = [check_register(random_history(random.Random(s), 5), 0) is None
                for s in range(300)]
    assert 30 < sum(verdicts) < 270


def run_register(rng: random.Random, processes: int, per_process: int) -> list[Op]:
    """A real execution of a register by concurrent processes: each operation takes effect
    at one moment inside its interval (a linearizable history, by construction)."""
    state, t, ops = 0, 0.0, []
    pending: dict = {}
    remaining = {p: per_process for p in range(processes)}
    while remaining or pending:
        t += rng.random()
        p = rng.choice(list(remaining) + list(pending))
        if p in pending:
            f, arg, start = pending.pop(p)
            if f == GET:
                result = state
            elif f == SET:
                state, result = arg, None
            else:
                state = result = state + 1
            t += rng.random()
            ops.append(op(p, f, start, t, inc if f == UPDATE else arg, result))
        else:
            f = rng.choice((GET, SET, UPDATE))
            pending[p] = (f, rng.randint(0, 9), t)
            remaining[p] -= 1
            if not remaining[p]:
                del remaining[p]
    return ops


@pytest.mark.parametrize("seed", range(20))
def test_a_concurrent_execution_is_linearizable_and_a_changed_read_is_not(seed):
    rng = random.Random(seed)
    ops = run_register(rng, processes=5, per_process=20)
    assert check(ops, 0) == []
    i = rng.choice([i for i, o in enumerate(ops) if o.f == GET])
    ops[i] = op(ops[i].process, GET, ops[i].start, ops[i].end, result=-1)
    assert len(check(ops, 0)) == 1
