"""The transaction anomaly checker (tests/histories/elle.py) on hand-made histories: each
anomaly it must find, in the smallest history that has it, and valid histories it must pass
(serial executions of random transactions, given in any order, with aborted and
unknown-outcome ones among them)."""

import random

import pytest

from tests.histories.elle import FAIL, INFO, OK, Txn, append, check, kinds, read


def T(tid, *ops, status="ok"):  # noqa: N802 (reads like a history)
    return Txn(tid, list(ops), status)


def found(history, kind):
    """The anomalies of `kind` in `history` (one line each, for the assertion's message)."""
    anomalies = check(history)
    return [a for a in anomalies if a.kind == kind], [str(a) for a in anomalies]


def test_a_serial_history_has_no_anomaly():
    history = [
        T("t1", append("x", 1), append("y", 1)),
        T("t2", read("x", [1]), append("x", 2), read("x", [1, 2])),
        T("t3", read("x", [1, 2]), read("y", [1])),
        T("t4", read("y", [1]), append("y", 2), append("z", 1)),
        T("t5", read("x", [1, 2]), read("y", [1, 2]), read("z", [1])),
    ]
    assert check(history) == []


def test_aborted_and_unknown_transactions_that_nobody_saw_are_fine():
    history = [
        T("t1", append("x", 1)),
        T("a1", read("x", [1]), append("x", 99), status=FAIL),   # aborted: never seen
        T("i1", append("x", 2), status=INFO),                     # unknown: it did happen
        T("i2", append("x", 3), status=INFO),                     # unknown: it did not
        T("t2", read("x", [1, 2])),
    ]
    assert check(history) == []


def serial_history(seed: int) -> list[Txn]:
    """A serial execution of random list-append transactions, some aborted (their appends
    never applied), some of unknown outcome (applied or not), in shuffled order."""
    rng = random.Random(seed)
    state: dict = {k: [] for k in "abcd"}
    history, n = [], 0
    for i in range(rng.randint(1, 25)):
        status = rng.choice([OK] * 6 + [FAIL, INFO])
        ops, local = [], {k: list(v) for k, v in state.items()}
        for _ in range(rng.randint(1, 4)):
            k = rng.choice("abcd")
            if rng.random() < 0.5:
                ops.append(read(k, local[k]))
            else:
                n += 1
                ops.append(append(k, n))
                local[k].append(n)
        if status == OK or (status == INFO and rng.random() < 0.5):
            state = local
        history.append(Txn(f"t{i}", ops, status, start=2 * i, end=2 * i + 1))
    history.append(T("final", *(read(k, v) for k, v in state.items())))
    rng.shuffle(history)
    return history


@pytest.mark.parametrize("seed", range(200))
def test_serial_histories_have_no_anomaly(seed):
    assert [str(a) for a in check(serial_history(seed), realtime=True)] == []


def test_g0_write_cycle():
    history = [
        T("t1", append("x", 1), append("y", 2)),
        T("t2", append("x", 2), append("y", 1)),
        T("t3", read("x", [1, 2]), read("y", [1, 2])),
    ]
    g0, lines = found(history, "G0")
    assert len(g0) == 1 and set(g0[0].txns) == {"t1", "t2"}, lines
    assert "-ww 'x'->" in str(g0[0]) and "-ww 'y'->" in str(g0[0])


def test_g1a_aborted_read():
    history = [
        T("t1", append("x", 1), status=FAIL),
        T("t2", read("x", [1])),
    ]
    g1a, lines = found(history, "G1a")
    assert [a.txns for a in g1a] == [("t2", "t1")], lines
    assert "aborted" in str(g1a[0])


def test_g1b_intermediate_read():
    history = [
        T("t1", append("x", 1), append("x", 2)),
        T("t2", read("x", [1])),
        T("t3", read("x", [1, 2])),
    ]
    g1b, lines = found(history, "G1b")
    assert [a.txns for a in g1b] == [("t2", "t1")], lines


def test_g1c_circular_information_flow():
    history = [
        T("t1", append("x", 1), read("y", [1])),
        T("t2", append("y", 1), read("x", [1])),
    ]
    g1c, lines = found(history, "G1c")
    assert len(g1c) == 1 and set(g1c[0].txns) == {"t1", "t2"}, lines
    assert "-wr" in str(g1c[0]) and "-rw" not in str(g1c[0])


def test_g_single_read_skew():
    """t2 sees t1's append to y but not its append to x: a torn read of t1."""
    history = [
        T("t1", append("x", 1), append("y", 1)),
        T("t2", read("x", []), read("y", [1])),
        T("t3", read("x", [1]), read("y", [1])),
    ]
    single, lines = found(history, "G-single")
    assert len(single) == 1 and set(single[0].txns) == {"t1", "t2"}, lines
    assert str(single[0]).count("-rw") == 1
    assert kinds(check(history)) == {"G-single"}


def test_g2_write_skew():
    """Each read both keys empty and appended to a different one: fine under snapshot
    isolation, not serializable (two anti-dependencies)."""
    history = [
        T("t1", read("x", []), read("y", []), append("x", 1)),
        T("t2", read("x", []), read("y", []), append("y", 1)),
        T("t3", read("x", [1]), read("y", [1])),
    ]
    g2, lines = found(history, "G2")
    assert len(g2) == 1 and set(g2[0].txns) == {"t1", "t2"}, lines
    assert str(g2[0]).count("-rw") == 2
    assert "G-single" not in kinds(check(history))


def test_lost_update():
    """Both read x = [] and appended: as registers holding their history, one write
    replaced the other; here both are in the final list, and still not serializable."""
    history = [
        T("t1", read("x", []), append("x", 1)),
        T("t2", read("x", []), append("x", 2)),
        T("t3", read("x", [1, 2])),
    ]
    lost, lines = found(history, "lost update")
    assert [set(a.txns) for a in lost] == [{"t1", "t2"}], lines
    assert "G-single" in kinds(check(history))  # t1 -ww-> t2 -rw-> t1


def test_a_lost_write_of_a_register_is_an_incompatible_order():
    """Registers: t2 wrote x based on [], replacing t1's [1]; a reader saw [1] before."""
    history = [
        T("t1", read("x", []), append("x", 1)),
        T("r1", read("x", [1])),
        T("t2", read("x", []), append("x", 2)),
        T("r2", read("x", [2])),
    ]
    bad, lines = found(history, "incompatible order")
    assert len(bad) == 1 and set(bad[0].txns) == {"r1", "r2"}, lines
    assert "lost update" in kinds(check(history))


def test_duplicated_append():
    history = [
        T("t1", append("x", 1)),
        T("t2", read("x", [1, 1])),
        T("t3", append("y", 5)),
        T("t4", append("y", 5)),
    ]
    dup, lines = found(history, "duplicated append")
    assert sorted(a.txns for a in dup) == [("t2",), ("t3", "t4")], lines


def test_an_unknown_outcome_seen_by_a_reader_is_committed():
    """i1's outcome is unknown, but t2 read its append to y: it committed, and t2 missing
    its append to x is a torn read."""
    history = [
        T("i1", append("x", 1), append("y", 1), status=INFO),
        T("t2", read("x", []), read("y", [1])),
        T("t3", read("x", [1])),
    ]
    assert "G-single" in kinds(check(history))


def test_realtime_a_read_that_misses_a_write_that_ended_before_it_began():
    """t2 began after t1 ended but read x without t1's append: serializable (t2, t1), not
    in real-time order. With overlapping times it is fine."""
    def history(t2_start):
        return [Txn("t1", [append("x", 1)], start=0, end=1),
                Txn("t2", [read("x", [])], start=t2_start, end=3),
                Txn("t3", [read("x", [1])], start=4, end=5)]

    assert check(history(2)) == []
    late = check(history(2), realtime=True)
    assert [(a.kind, set(a.txns)) for a in late] == [("G-realtime", {"t1", "t2"})], late
    assert "-rt->" in str(late[0]) and "-rw 'x'->" in str(late[0])
    assert check(history(0.5), realtime=True) == []
