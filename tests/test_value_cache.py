"""A large value stays decoded in its node's memory, within the value cache's bound
(swarm/node/machine/data.py): README's examples/big_data.py at 100 MiB on real nodes, and the
cache's bound and contents on a store of our own."""

import numpy as np
import pytest
from helpers import write
from test_values import Disk

import swarm
from swarm.node.machine.data import KEEP_ENCODED, RefData, real_size
from swarm.wire import values

COUNT = 100 * 2**20 // 8  # README's big_data.py: 100 MiB of floats, 420 MB decoded

READS = """
import sys
from swarm import Ref, here, move_to
count = int(sys.argv[1])
move_to("n2")
data = Ref(tuple(map(float, range(count))))  # made on n2, as examples/big_data.py does
move_to("n1")
first = sum(data.get())  # moves the program to n2, where the value is
move_to("n1")
second = sum(data.get())
move_to("n1")
third = sum(data.get())
RESULT = (first, second, third, here())
"""


# a loop reading a large value and moving on: what each hop carries
LOOP = """
import sys
from swarm import Ref, move_to
data = Ref(tuple(map(float, range(int(sys.argv[1])))), at="n2")
move_to("n1")
for _ in range(2):
    total = sum(data.get())  # the value read is summed here, and dead after
    move_to("n1")
RESULT = total
"""


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(2) as c:
        yield c


def test_a_100_mib_tuple_on_a_default_node_is_not_decoded_again_at_each_read(cluster,
                                                                             tmp_path):
    def n2():
        return {row["node"]: row for row in cluster.status()}["n2"]

    before = n2()
    out = cluster.run_file(write(tmp_path, "reads.py", READS), argv=[str(COUNT)], timeout=120)
    assert out.error is None, out.traceback
    total = COUNT * (COUNT - 1) // 2
    assert out.value == (total, total, total, "n2")
    after = n2()
    cache = after["cache"]
    assert after["hops_in"] - before["hops_in"] == 4  # to make it, then 3 times to read it
    # kept decoded since its write: 3 reads, no decoding; at its real size, in the bound
    assert cache["bound"] == 1 << 30  # the default (docs/nodes.md)
    assert cache["decoded"] - before["cache"]["decoded"] == 0, cache
    assert cache["too_large"] - before["cache"]["too_large"] == 0, cache
    assert 4 * COUNT * 8 < cache["bytes"] <= cache["bound"], cache


def test_a_loop_that_sums_a_large_value_does_not_carry_it_on_its_next_hop(cluster, tmp_path):
    count = 2**17  # 1 MiB of floats
    out = cluster.run_file(write(tmp_path, "loop.py", LOOP), argv=[str(count)], trace=True,
                           timeout=60)
    assert out.error is None, out.traceback
    assert out.value == count * (count - 1) // 2
    moves = [h["bytes"] for h in out.trace if h["why"] == "move_to"]
    assert len(moves) == 3 and max(moves) < 64 * 1024, out.trace


def _data(bound: int) -> RefData:
    return RefData(Disk(), values.encode, values.decode, cache_bytes=bound,
                   private=values.private_copy, nbytes=values.nbytes)


def test_a_value_read_from_the_store_is_kept_up_to_the_whole_bound_and_no_further():
    floats = tuple(map(float, range(2**20)))  # 9 MB encoded (a store file), 33 MB decoded
    encoded = values.encode(floats)
    assert values.nbytes(encoded) >= KEEP_ENCODED
    data = _data(bound=40 << 20)  # more than its decoded size, less than both forms
    data.reader.refs["big"] = encoded
    assert data.read("big") == floats and data.read("big") is data.read("big")
    assert (data.decoded, data.too_large, list(data.cache)) == (1, 0, ["big"])
    # counted and held decoded alone; the encoded form (a fetch's answer) from the store
    assert data.cached == real_size(floats) <= data.cache_bytes
    assert data.blob("big") is encoded and data.size("big") == values.nbytes(encoded)
    # another value puts it out, least recently used first: the bound holds
    data.reader.refs["other"] = values.encode(tuple(map(float, range(2**20, 2**21))))
    assert data.read("other")[0] == 2.0**20
    assert list(data.cache) == ["other"] and data.cached <= data.cache_bytes
    # over the whole bound: not kept, decoded again at each read (and counted)
    small = _data(bound=16 << 20)
    small.reader.refs["big"] = encoded
    assert small.read("big") == small.read("big") == floats
    assert (small.decoded, small.too_large, small.cached) == (2, 2, 0)


def test_a_written_value_is_kept_decoded_and_its_store_form_read_back():
    data = _data(bound=64 << 20)
    floats = tuple(np.arange(2.0**20).tolist())
    data.write("r", floats)
    assert data.read("r") is floats and data.decoded == 0
    staged = data.blob("r")  # not on disk yet: the staged form
    assert values.decode(staged) == floats
    writes = data.take_staged()
    data.reader.refs.update(writes.values)
    data.on_disk(writes)
    assert data.blob("r") is staged and data.read("r") is floats
    assert data.cache["r"][1] is None  # the encoded form is not held twice
