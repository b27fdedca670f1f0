"""Values as programs use them: numpy arrays, bytes and their views on real nodes; what a
reader may share; the value cache's bound; chunks on the wire (swarm/wire/values.py,
chunks.py, swarm/node/machine/data.py)."""

import os

import numpy as np
import pytest
from helpers import write

import swarm
from swarm.node.machine.data import RefData, real_size
from swarm.wire import chunks, decode, envelope, values
from swarm.wire.envelope import BadSignature

ROUND_TRIP = """
import numpy as np
from swarm import Ref, here
base = np.arange(60_000, dtype=np.float32).reshape(200, 300)
kept = {
    "base": base,
    "view": base[10:190:3, ::7],                     # strided, shares base's memory
    "fortran": np.asfortranarray(np.arange(20_000, dtype=np.int16).reshape(100, 200)),
    "records": np.array([(i, i / 2) for i in range(10_000)],
                        dtype=[("id", "<i8"), ("half", "<f8")]),
    "small": np.arange(5),                           # stays inside the pickle
}
r = Ref(kept, at="n2")
big = Ref(base, at="n3")
raw = Ref(bytes(range(256)) * 1000, at="n2")
view = Ref(memoryview(np.arange(30_000, dtype=np.int64)))   # here (a memoryview cannot travel
mutable = Ref(bytearray(b"ab" * 50_000), at="n3")           # in a continuation: made here)

got = r.get()
print(here(), {k: (v.dtype.str, v.shape) for k, v in got.items()} ==
      {k: (v.dtype.str, v.shape) for k, v in kept.items()},
      all((got[k] == kept[k]).all() for k in kept),
      np.shares_memory(got["base"], got["view"]), got["view"].base is not None,
      got["fortran"].flags.f_contiguous)
got["base"][0, 0] = 99.0                               # a private copy: the Ref is unchanged
print(here(), r.get()["base"][0, 0] == 0.0)

a = big.get()
print(here(), a.dtype, a.shape, a.flags.writeable, (a == base).all())
try:
    a[0, 0] = 1.0
except ValueError as e:
    print("read-only:", e)
a.shape = (300, 200)                                   # this reader's view alone
print(big.get().shape)

b = raw.get()
print(here(), type(b).__name__, len(b), b[:3] == bytes(range(3)))
m = mutable.get()
m[0:2] = b"zz"                                         # its own copy
print(here(), type(m).__name__, mutable.get()[:2] == b"ab")
mutable.set(m)
print(mutable.get()[:4])
mv = view.get()
print(here(), mv.format, mv.shape, mv.readonly, mv[-1])
"""

EXPECTED = """n2 True True True True True
n2 True
n3 float32 (200, 300) False True
read-only: assignment destination is read-only
(200, 300)
n2 bytes 256000 True
n3 bytearray True
bytearray(b'zzab')
n2 l (30000,) True 29999
"""


@pytest.mark.parametrize("policy", ["migrate", "fetch"])
def test_arrays_and_bytes_round_trip_with_dtype_shape_and_views(tmp_path, policy):
    with swarm.local_cluster(3) as cluster:
        out = cluster.run_file(write(tmp_path, "arrays.py", ROUND_TRIP), policy=policy,
                               timeout=120)
        assert out.error is None, out.traceback
        expected = EXPECTED if policy == "migrate" else EXPECTED.replace("n2 ", "n1 ").replace(
            "n3 ", "n1 ")
        assert out.stdout == expected


def test_an_encoded_array_keeps_its_buffer_out_of_the_pickle():
    a = np.arange(1 << 20, dtype=np.float64)
    packed = values.encode({"a": a, "n": 1})
    assert isinstance(packed, values.Packed) and len(packed.head) < 1000
    assert packed.nbytes >= a.nbytes
    back = values.decode(packed.flat())
    assert (back["a"] == a).all() and back["a"].flags.writeable  # in a dict: a copy
    a[0] = 7.0  # the encoded value is a snapshot
    assert values.decode(packed)["a"][0] == 0.0
    alone = values.encode(a)
    frozen = values.decode(alone.flat())  # an array alone: a read-only view, no copy
    assert not frozen.flags.writeable and frozen[0] == 7.0
    assert isinstance(values.encode(frozen).buffers[0], memoryview)  # kept, not copied
    assert isinstance(alone.buffers[0], bytes)  # the program's own array: copied
    assert values.encode([1, 2]) == values.encode([1, 2]) and values.decode(
        values.encode([1, 2])) == [1, 2]


class Disk:
    """A store's reader over a dict (what RefData reads: swarm/node/store.py's interface)."""

    def __init__(self) -> None:
        self.refs: dict = {}

    def get_ref(self, ref_id):
        return self.refs.get(ref_id)

    def has_ref(self, ref_id):
        return ref_id in self.refs

    def ref_size(self, ref_id):
        return values.nbytes(self.refs[ref_id])

    def forward(self, ref_id):
        return None


def test_the_cache_counts_real_size_not_the_pickle():
    data = RefData(Disk(), values.encode, values.decode, cache_bytes=16 << 20,
                   private=values.private_copy, nbytes=values.nbytes)
    words = tuple(f"w{i}" for i in range(200_000))  # pickles to ~1.6 MB, ~12 MB in memory
    assert real_size(words) > 5 * len(values.encode(words))
    for i in range(6):
        data.write(f"r{i}", words[i:])
    assert data.cached <= data.cache_bytes
    assert len(data.cache) < 6
    assert data.read("r5") is words[5:] or data.read("r5") == words[5:]


def test_readers_share_what_cannot_change_and_copy_the_rest():
    data = RefData(Disk(), values.encode, values.decode, private=values.private_copy,
                   nbytes=values.nbytes)
    array, listed = np.arange(100_000.0), [np.arange(100_000.0), "x"]
    data.write("a", array)
    data.write("l", listed)
    array[0] = 5.0
    first, second = data.read("a"), data.read("a")
    assert first[0] == 0.0 and first is not second and np.shares_memory(first, second)
    mine = data.read("l")
    mine[0][0] = 9.0
    mine.append("y")
    assert data.read("l")[0][0] == 0.0 and len(data.read("l")) == 2


SECRET = os.urandom(32)


def _through(messages, assembler):
    out = None
    for frames in messages:
        env = envelope.unpack(SECRET, frames)
        assert sum(map(len, frames)) <= 70_000
        whole = assembler.add(env, decode.payload(env)) if env.kind == "chunk" else env
        out = whole or out
    return out


def test_a_large_message_goes_in_chunks_and_comes_back_whole():
    signer = envelope.Signer(SECRET, "n1")
    packed = values.encode(np.arange(200_000, dtype=np.int64))
    control = decode.encode({"key": "k"})
    messages = chunks.split(signer, "fetched", control, (packed,), 65536)
    assert len(messages) > 20
    env = _through(messages, chunks.Assembler(1 << 30))
    assert env.kind == "fetched" and env.control == control
    assert (values.decode(env.blobs[0]) == np.arange(200_000)).all()


def test_chunks_out_of_order_tampered_or_too_large_are_refused():
    signer = envelope.Signer(SECRET, "n1")
    blob = os.urandom(300_000)
    messages = chunks.split(signer, "fetched", decode.encode({"key": "k"}), (blob,), 65536)
    cut = chunks.Assembler(1 << 30)  # (its second chunk lost with a connection: gate.py)
    with pytest.raises(chunks.CutStream, match="came without the chunks before it"):
        _through([messages[0], messages[2]], cut)
    assert _through(messages[3:5], cut) is None and cut.cut_chunks == 2  # (said once)
    assert _through(messages, cut).blobs[0] == blob  # (its sender sent it again)
    body = bytes(messages[1][2])
    tampered = [messages[1][0], messages[1][1], bytes([body[0] ^ 1]) + body[1:]]  # always changed
    with pytest.raises(BadSignature):
        _through([messages[0], tampered], chunks.Assembler(1 << 30))
    with pytest.raises(envelope.TooLarge, match="exceeds 100000"):
        _through(messages, chunks.Assembler(100_000))
    assert _through(messages, chunks.Assembler(1 << 30)).blobs[0] == blob
