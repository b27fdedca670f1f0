"""The store's `partial` rows (hops whose segment had Ref writes kept before it ended): a
group commit skips deleting them when no finished hop has one, so they must still go when
one does - in the node's own store and in a store reopened on the same file."""

from swarm.node.machine.ledger import Txn
from swarm.node.store import Store


def _txn(**fields) -> Txn:
    t = Txn()
    for name, value in fields.items():
        setattr(t, name, value)
    return t


def test_partial_rows_go_when_their_hop_finishes(tmp_path):
    path = str(tmp_path / "store.sqlite")
    store = Store(path)
    store.commit(_txn(accepted={"h1": ("p", b"m", b"d"), "h2": ("p", b"m", b"d")},
                      partial={"h1": ["r1", "r2"], "h2": ["r3"]}))
    assert store.partial() == {"h1": ["r1", "r2"], "h2": ["r3"]}
    store.commit(_txn(finished=["h9"]))  # a hop without a row: nothing to delete
    store.commit(_txn(finished=["h1"]))
    assert store.partial() == {"h2": ["r3"]}
    store.db.close()
    again = Store(path)  # the ids with a row are read from the file at open
    again.commit(_txn(finished=["h2"]))
    assert again.partial() == {}
    assert set(again.done_ids()) >= {"h1", "h2"}  # (done: WITHOUT ROWID in a new store)


def test_a_hop_that_finishes_in_the_commit_that_took_it_leaves_no_row(tmp_path):
    store = Store(str(tmp_path / "store.sqlite"))
    store.commit(_txn(accepted={"h1": ("p", b"m", b"d")}, finished=["h1"],
                      partial={"h1": ["r1"]}))
    assert store.partial() == {}
    store.commit(_txn(partial={"h2": ["r1"]}))
    store.commit(_txn(finished=["h2"]))
    assert store.partial() == {}
