"""Capture and resume cost per frame, and pickled bytes per frame.

A chain of D compiled frames suspends at its leaf. Measured for D = 1 and D = 101 and divided
by the 100 frames between them, so fixed costs (raising, the leaf, the root) cancel:
- capture: from the leaf's raise to the Capture reaching the root with every record;
- encode / decode: codec bytes of that continuation;
- resume: from the decoded continuation to the chain returning its result (each frame's
  resumer restores its locals and re-enters; returning through D frames is included);
- bytes: length of the encoded continuation.
"""

from __future__ import annotations

import os
import sys
import time

from swarm.compiler import load_module
from swarm.continuation import codec
from swarm.continuation.capture import Capture
from swarm.continuation.primitives import set_policy
from swarm.continuation.resume import resume

PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs", "chain.py")
DEPTHS = (1, 101)


def _capture(mod, depth):
    try:
        mod.chain(depth, 0, "x")
    except Capture as c:
        return c.continuation()
    raise AssertionError("no capture")


def _best(fn, reps: int, rounds: int = 7) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t) / reps)
    return best


def main() -> dict:
    mod = load_module(PROGRAM, "bench_chain", register_in_sys=False)
    set_policy(lambda op: True)
    limit = sys.getrecursionlimit()
    try:
        per = {}
        for depth in DEPTHS:
            cont = _capture(mod, depth)
            data = codec.encode(cont)
            expected = sum(2 * n for n in range(1, depth + 1))
            set_policy(None)
            assert resume(codec.decode(data)) == expected
            set_policy(lambda op: True)
            reps = 200 if depth > 1 else 2000
            capture = _best(lambda d=depth: _capture(mod, d), reps)
            encode = _best(lambda c=cont: codec.encode(c), reps)
            decode = _best(lambda b=data: codec.decode(b), reps)
            set_policy(None)
            conts = [codec.decode(data) for _ in range(reps * 7)]
            it = iter(conts)
            resume_t = _best(lambda i=it: resume(next(i)), reps)
            set_policy(lambda op: True)
            per[depth] = dict(capture=capture, encode=encode, decode=decode, resume=resume_t,
                              bytes=len(data))
    finally:
        set_policy(None)
        sys.setrecursionlimit(limit)
    lo, hi = per[DEPTHS[0]], per[DEPTHS[1]]
    frames = DEPTHS[1] - DEPTHS[0]
    result = {k: (hi[k] - lo[k]) / frames for k in ("capture", "encode", "decode", "resume",
                                                     "bytes")}
    result["one_frame_total_bytes"] = lo["bytes"]
    print("\ncontinuation cost per frame (chain of 101 vs 1 frames, best of 7)")
    for k in ("capture", "resume", "encode", "decode"):
        print(f"  {k:<8} {result[k] * 1e6:7.2f} us/frame")
    print(f"  bytes    {result['bytes']:7.1f} B/frame   "
          f"(a 1-frame continuation: {lo['bytes']} B in all)")
    return result
