"""The gate a message passes before anything in it is unpickled (swarm/wire/gate.py), and
what decode.py refuses once it has: in one process, no sockets, many generated inputs.

Every test here runs with unpickling booby-trapped (pickle and dill raise if called), so a
test that passes proves the gate decided without unpickling anything."""

import pickle

import dill
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swarm.wire import PROTOCOL, decode
from swarm.wire.envelope import (
    BadSignature,
    Malformed,
    Replayed,
    Signer,
    Stale,
    TooLarge,
    UnknownSender,
    WireError,
    pack,
)
from swarm.wire.gate import Gate, ReplayGuard, now_ms

SECRET = b"k" * 32
NODES = ["n1", "n2", "n3"]


class Unpickled(AssertionError):
    pass


@pytest.fixture
def no_unpickling(monkeypatch):
    """pickle and dill raise if anything is unpickled while the gate decides."""
    def trap(*args, **kwargs):
        raise Unpickled("the gate unpickled something")

    for module, name in ((pickle, "loads"), (pickle, "load"), (pickle, "Unpickler"),
                         (dill, "loads"), (dill, "load")):
        monkeypatch.setattr(module, name, trap)


def gate(**kw) -> Gate:
    return Gate(SECRET, NODES, max_bytes=1 << 20, **kw)


def body(value=None) -> bytes:
    return decode.encode(value if value is not None else {"hop_ids": []})


def test_messages_are_taken_once_in_order(no_unpickling):
    g, client = gate(), Signer(SECRET, "c1")
    first, second = client.pack("hello", body({})), client.pack("hello", body({}))
    assert g.admit(b"c1", first).seq == 1
    assert g.admit(b"c1", second).seq == 2
    for frames in (first, second):
        with pytest.raises(Replayed, match="taken already"):
            g.admit(b"c1", frames)
    restarted = Signer(SECRET, "c1")  # a new incarnation of the sender counts from 1 again
    assert g.admit(b"c1", restarted.pack("hello", body({}))).seq == 1


def test_what_predates_the_cutoff_or_the_window_is_refused(no_unpickling):
    now = now_ms()
    g = gate(window=60, cutoff_ms=now - 1000)
    old = pack(SECRET, "ping", "c1", 1, body({}), sent_ms=now - 2000)
    with pytest.raises(Replayed, match="before this node's last stop or restart"):
        g.admit(b"c1", old)
    fresh = gate(window=60)  # a node with a new store: no cutoff
    for skew in (-61_000, 61_000):  # in the past, or from a clock far ahead
        with pytest.raises(Stale, match="replay window of 60 s"):
            fresh.admit(b"c1", pack(SECRET, "ping", "c1", 1, body({}), sent_ms=now + skew))
    assert g.admit(b"c1", pack(SECRET, "ping", "c1", 1, body({}), sent_ms=now)).seq == 1


def test_senders_are_forgotten_after_the_window_and_their_messages_stay_refused():
    guard = ReplayGuard(window=10)
    g = Gate(SECRET, NODES)
    g.replays = guard
    t0 = now_ms()
    env = g.admit(b"c1", pack(SECRET, "ping", "c1", 5, body({}), sent_ms=t0))
    guard.sweep(t0 + 11_000)
    assert guard.seen == {}
    with pytest.raises(Stale):  # what it stood for is older than the window now
        guard.check(env, now=t0 + 11_000)


def test_only_nodes_send_node_kinds_and_only_on_their_own_connection(no_unpickling):
    g = gate()
    with pytest.raises(UnknownSender, match="not a node of this cluster"):
        g.admit(b"n9", Signer(SECRET, "n9").pack("hop", b"\0" * 8))
    with pytest.raises(UnknownSender, match="came on the connection of"):
        g.admit(b"someone", Signer(SECRET, "n1").pack("hop", b"\0" * 8))
    with pytest.raises(UnknownSender):  # a client may not send what nodes send
        g.admit(b"c1", Signer(SECRET, "c1").pack("ack", body()))
    assert g.admit(b"n1", Signer(SECRET, "n1").pack("ack", body())).kind == "ack"


def test_size_and_signature_are_checked_first(no_unpickling):
    g = gate()
    frames = Signer(b"another secret".ljust(32), "c1").pack("submit", body())
    with pytest.raises(BadSignature):
        g.admit(b"c1", frames)
    with pytest.raises(TooLarge):
        g.admit(b"c1", Signer(SECRET, "c1").pack("submit", b"\0" * (2 << 20)))


frames_strategy = st.lists(st.binary(max_size=200), max_size=5)


@settings(max_examples=1500, deadline=None,  # (no timing: a loaded machine is slow)
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(identity=st.binary(max_size=16), frames=frames_strategy)
def test_random_frames_are_refused_unread(no_unpickling, identity, frames):
    with pytest.raises(WireError):
        gate().admit(identity, frames)


@settings(max_examples=1500, deadline=None,  # (no timing: a loaded machine is slow)
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_change_to_a_signed_message_is_refused_unread(no_unpickling, data):
    kind = data.draw(st.sampled_from(["submit", "hop", "ack", "stop", "fetch"]))
    sender = "n1" if kind in ("hop", "ack", "fetch") else "c1"
    frames = Signer(SECRET, sender).pack(kind, data.draw(st.binary(min_size=1, max_size=64)))
    which = data.draw(st.integers(0, 1))
    raw = bytearray(frames[which])
    how = data.draw(st.sampled_from(["flip", "truncate", "extend", "drop frame", "add frame"]))
    if how == "flip":
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
    elif how == "truncate":
        del raw[data.draw(st.integers(0, len(raw) - 1)):]
    elif how == "extend":
        raw += data.draw(st.binary(min_size=1, max_size=16))
    changed = list(frames)
    changed[which] = bytes(raw)
    if how == "drop frame":
        changed.pop(which)
    elif how == "add frame":
        changed.insert(data.draw(st.integers(0, 2)), data.draw(st.binary(max_size=16)))
    with pytest.raises(WireError):
        gate().admit(sender.encode(), changed)


# ---- after the gate: decode.py refuses malformed payloads of signed messages -------------

def admitted(kind: str, payload: bytes, sender: str = "c1"):
    return gate().admit(sender.encode(), Signer(SECRET, sender).pack(kind, payload))


@pytest.mark.parametrize("payload, complaint", [
    (b"\xc1 never msgpack", "undecodable"),
    (pickle.dumps({"program": "p"}), "undecodable"),  # a pickle is not a control frame
    (decode.encode([1, 2]), "payload is a list, not a map"),
    (decode.encode({"program": "p"}), "field 'sources' is missing"),
    (decode.encode({"program": "p", "sources": 3, "entry": "e", "modules": {}}),
     "field 'sources' is malformed"),
    (decode.encode({"program": "p", "sources": {}, "entry": "e", "modules": {"swarm": "h"}}),
     "field 'modules' is malformed"),
    (decode.encode({"program": 7, "sources": {}, "entry": "e", "modules": {}}),
     "field 'program' is a int, not str"),
])
def test_a_signed_malformed_submit_is_refused_naming_the_problem(no_unpickling, payload,
                                                                 complaint):
    with pytest.raises(Malformed, match=complaint):
        decode.payload(admitted("submit", payload))


def test_a_signed_hop_with_bad_frames_or_meta_is_refused(no_unpickling):
    good = {"program": "p", "client": "c", "modules": {}, "argv": [], "hop_checkpoints": False,
            "seq": 0, "route": [], "hop_id": "h"}
    signer = Signer(SECRET, "n1")
    cases = [signer.pack("hop", decode.encode({})),  # no blobs
             signer.pack("hop", decode.encode({}), (decode.encode(good),)),  # one
             signer.pack("hop", decode.encode({}), (b"\xc1", b"cont")),  # meta not msgpack
             signer.pack("hop", decode.encode({}), (decode.encode({"program": "p"}), b"c")),
             signer.pack("hop", decode.encode({"acks": [1]}), (decode.encode(good), b"c"))]
    for frames in cases:
        with pytest.raises(Malformed):
            decode.hop(gate().admit(b"n1", frames))
    meta, _, extra, data = decode.hop(gate().admit(b"n1", signer.pack(
        "hop", decode.encode({"acks": ["x"]}), (decode.encode(good), b"cont"))))
    assert meta == good and extra == {"acks": ["x"]} and data == b"cont"  # nothing unpickled


def test_protocol_is_the_current_one():
    assert Signer(SECRET, "c1").pack("ping", b"")[0].startswith(PROTOCOL)
