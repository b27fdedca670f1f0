"""Coverage-guided fuzzing of a node's trust boundary with atheris (make faults runs it).

    python tests/faults/atheris_wire.py -runs=300000

Each input is turned into what a node could receive and passed through the code a node
runs on it, in one process (no sockets: millions of inputs):

    0  raw frames and an identity, as a stranger sends them        -> Gate.admit
    1  a signed message, then changed (bytes flipped, cut, frames)  -> Gate.admit
    2  a signed message of any kind whose payload is built from the -> Gate.admit, then
       input (fields of any type, a hop's lengths and meta)            decode.payload/hop_payload

Pass: Gate.admit either returns an Envelope or raises a WireError; decode refuses with
Malformed or returns a payload that satisfies its kind's fields. Anything else - another
exception, or any unpickling while the gate decides (pickle and dill are booby-trapped
until an envelope is admitted) - is a crash, and atheris stops with the input.
"""

import pickle
import sys

import atheris

with atheris.instrument_imports():
    import dill

    from swarm.wire import decode
    from swarm.wire.envelope import Signer, WireError
    from swarm.wire.gate import Gate
    from swarm.wire.kinds import HOP_EXTRA, HOP_META, KINDS, NODE_KINDS, PAYLOADS, problem

SECRET = b"s" * 32
NODES = ["n1", "n2"]
KIND_LIST = sorted(KINDS)
armed = False  # True while the gate decides: any unpickling then is a failure


class Unpickled(Exception):
    pass


def _trap(real):
    def trapped(*args, **kwargs):
        if armed:
            raise Unpickled("unpickled while the gate was deciding")
        return real(*args, **kwargs)
    return trapped


pickle.loads = _trap(pickle.loads)
pickle.load = _trap(pickle.load)
dill.loads = _trap(dill.loads)


def value(fdp, depth: int = 0):
    """A plain value of any type the input chooses."""
    what = fdp.ConsumeIntInRange(0, 8 if depth < 2 else 5)
    if what == 0:
        return None
    if what == 1:
        return fdp.ConsumeBool()
    if what == 2:
        return fdp.ConsumeInt(8)
    if what == 3:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 16))
    if what == 4:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 16))
    if what == 5:
        return fdp.ConsumeFloat()
    n = fdp.ConsumeIntInRange(0, 3)
    if what == 6:
        return [value(fdp, depth + 1) for _ in range(n)]
    if what == 7:
        return tuple(value(fdp, depth + 1) for _ in range(n))
    return {fdp.ConsumeUnicodeNoSurrogates(6): value(fdp, depth + 1) for _ in range(n)}


def payload_for(fdp, spec) -> dict:
    """A dict with some of the spec's fields (of any type) and other keys."""
    fields = {}
    for name in (*spec[0], *spec[1]):
        if fdp.ConsumeIntInRange(0, 4):
            fields[name] = value(fdp)
    for _ in range(fdp.ConsumeIntInRange(0, 2)):
        fields[fdp.ConsumeUnicodeNoSurrogates(6)] = value(fdp)
    return fields


def admit(gate: Gate, identity: bytes, frames: list[bytes]):
    global armed
    armed = True
    try:
        return gate.admit(identity, frames)
    except WireError:
        return None
    finally:
        armed = False


def check_decoded(env) -> None:
    """After the gate: decode refuses (Malformed, a WireError) or the payload fits."""
    try:
        if env.kind == "hop":
            meta, _, extra, _ = decode.hop_payload(env)
            assert problem(meta, HOP_META) is None and problem(extra, HOP_EXTRA) is None
        else:
            p = decode.payload(env)
            assert problem(p, PAYLOADS.get(env.kind, ({}, {}))) is None
    except WireError:
        pass


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    gate = Gate(SECRET, NODES, max_bytes=1 << 16)
    mode = fdp.ConsumeIntInRange(0, 2)
    if mode == 0:
        identity = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 8))
        frames = [fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 256))
                  for _ in range(fdp.ConsumeIntInRange(0, 4))]
        assert admit(gate, identity, frames) is None, "unsigned frames were admitted"
        return
    kind = KIND_LIST[fdp.ConsumeIntInRange(0, len(KIND_LIST) - 1)]
    sender = "n1" if kind in NODE_KINDS else "c1"
    signer = Signer(SECRET, sender)
    if mode == 1:
        frames = signer.pack(kind, fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64)))
        which = fdp.ConsumeIntInRange(0, 1)
        raw = bytearray(frames[which])
        change = fdp.ConsumeIntInRange(0, 3)
        if change == 0 and raw:
            at = fdp.ConsumeIntInRange(0, len(raw) - 1)
            raw[at] ^= fdp.ConsumeIntInRange(1, 255)
        elif change == 1 and raw:
            del raw[fdp.ConsumeIntInRange(0, len(raw) - 1):]
        elif change == 2:
            raw += fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 16)) or b"+"
        else:
            frames.append(fdp.ConsumeBytes(8))
        frames[which] = bytes(raw)
        assert admit(gate, sender.encode(), frames) is None, "a changed message was admitted"
        return
    if kind == "hop":
        meta = pickle.dumps(payload_for(fdp, HOP_META))
        extra = payload_for(fdp, HOP_EXTRA)
        body = decode.encode_hop(meta, extra, fdp.ConsumeBytes(32))
        if fdp.ConsumeBool():  # lengths of the input's choosing
            body = fdp.ConsumeBytes(4) + body[4:] if fdp.ConsumeBool() else \
                body[:4 + len(meta)] + fdp.ConsumeBytes(4) + body[8 + len(meta):]
    else:
        body = pickle.dumps(payload_for(fdp, PAYLOADS.get(kind, ({}, {}))))
    env = admit(gate, sender.encode(), signer.pack(kind, body))
    assert env is not None and env.kind == kind, "a signed message was not admitted"
    check_decoded(env)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
