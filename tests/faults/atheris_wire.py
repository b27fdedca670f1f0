"""Coverage-guided fuzzing of a node's trust boundary with atheris (make faults runs it).

    python tests/faults/atheris_wire.py -runs=300000

Each input is turned into what a node could receive and passed through the code a node
runs on it, in one process (no sockets: millions of inputs):

    0  raw frames and an identity, as a stranger sends them        -> Gate.admit
    1  a signed message, then changed (bytes flipped, cut, frames)  -> Gate.admit
    2  a signed message of any kind whose control frame and blobs   -> Gate.admit, then
       are built from the input (fields of any type, a hop's meta)     decode.payload/hop

Pass: Gate.admit either returns an Envelope or raises a WireError; decode refuses with
Malformed or returns a payload that satisfies its kind's fields. Anything else - another
exception, or any unpickling while the gate or decode decides (pickle and dill are
booby-trapped: control frames are msgpack, and blobs are unpickled only later, by the
handler that needs one) - is a crash, and atheris stops with the input.
"""

import pickle
import sys

import atheris

with atheris.instrument_imports():
    import dill

    from swarm.wire import decode
    from swarm.wire.envelope import Signer, WireError
    from swarm.wire.gate import Gate
    from swarm.wire.kinds import HOP_META, KINDS, NODE_KINDS, PAYLOADS, problem

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
        return fdp.ConsumeIntInRange(-2**63, 2**63 - 1)
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
        return [value(fdp, depth + 1) for _ in range(n)]
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
    """After the gate: decode refuses (Malformed, a WireError) or the payload fits - and
    nothing is unpickled meanwhile."""
    global armed
    armed = True
    try:
        if env.kind == "hop":
            meta, _, extra, _ = decode.hop(env)
            assert problem(meta, HOP_META) is None and problem(extra, PAYLOADS["hop"]) is None
        else:
            p = decode.payload(env)
            assert problem(p, PAYLOADS.get(env.kind, ({}, {}, (0, 0)))) is None
    except WireError:
        pass
    finally:
        armed = False


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
        frames = signer.pack(kind, fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64)),
                             [fdp.ConsumeBytes(8) for _ in range(fdp.ConsumeIntInRange(0, 2))])
        which = fdp.ConsumeIntInRange(0, len(frames) - 1)
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
    spec = HOP_META if kind == "hop" else PAYLOADS.get(kind, ({}, {}, (0, 0)))
    if kind == "hop":
        control = decode.encode(payload_for(fdp, PAYLOADS["hop"]))
        blobs = [decode.encode(payload_for(fdp, spec)) if fdp.ConsumeBool()
                 else fdp.ConsumeBytes(16), fdp.ConsumeBytes(32)]
    else:
        control = decode.encode(payload_for(fdp, spec)) if fdp.ConsumeIntInRange(0, 7) \
            else fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64))
        blobs = [fdp.ConsumeBytes(16)]
    blobs = blobs[:fdp.ConsumeIntInRange(0, len(blobs) + 1)] + \
        [fdp.ConsumeBytes(4)] * fdp.ConsumeIntInRange(0, 1)
    env = admit(gate, sender.encode(), signer.pack(kind, control, blobs))
    assert env is not None and env.kind == kind, "a signed message was not admitted"
    check_decoded(env)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
