"""Raw pyzmq round trip between two OS processes on loopback.

Process B (started with multiprocessing, spawn) binds a ROUTER to tcp://127.0.0.1:* and hands
its endpoint back over a pipe; process A (this one) connects a DEALER, sends N bytes and waits
for B to echo them. One round trip = send + B's recv/send + recv, timed with perf_counter_ns.
After a warm-up, `rounds` round trips per size give median and p90.

Run alone: `python -m bench.baselines.zmq_rtt`.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import time

import zmq

from bench.baselines import SIZES, print_sizes, summarize

WARMUP = 200
STOP = b"\x00stop"  # a frame no measured payload uses (all payloads are b"x" * N)
TIMEOUT_MS = 10_000


def _echo_server(conn, rep: bool = False) -> None:
    """Process B: ROUTER (REP if `rep`) on an ephemeral loopback port; echo every message
    until STOP."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REP if rep else zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind("tcp://127.0.0.1:*")
    conn.send(sock.getsockopt_string(zmq.LAST_ENDPOINT))
    conn.close()
    try:
        while rep:
            payload = sock.recv(copy=False)
            sock.send(b"ok" if payload.bytes == STOP else payload, copy=False)
            if payload.bytes == STOP:
                return
        while True:
            ident, payload = sock.recv_multipart(copy=False)
            if payload.bytes == STOP:
                sock.send_multipart([ident, b"ok"])
                break
            sock.send_multipart([ident, payload], copy=False)
    finally:
        sock.close()
        ctx.term()


def _round_trips(sock, payload: bytes, n: int) -> list[int]:
    out = []
    perf = time.perf_counter_ns
    for _ in range(n):
        t0 = perf()
        sock.send(payload)
        reply = sock.recv()
        out.append(perf() - t0)
        if len(reply) != len(payload):
            raise RuntimeError(f"echo returned {len(reply)} bytes for {len(payload)}")
    return out


def measure(sizes=SIZES, rounds: int = 2000, rep: bool = False) -> dict:
    """Median and p90 round-trip time (us) per message size, DEALER <-> ROUTER over loopback
    (REQ <-> REP if `rep`: the textbook request-reply pair)."""
    mpctx = mp.get_context("spawn")
    parent, child = mpctx.Pipe(duplex=False)
    proc = mpctx.Process(target=_echo_server, args=(child, rep), daemon=True)
    t_start = time.perf_counter()
    proc.start()
    child.close()
    if not parent.poll(30):
        proc.kill()
        raise RuntimeError("echo process did not report its endpoint within 30 s")
    endpoint = parent.recv()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REQ if rep else zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
    sock.setsockopt(zmq.SNDTIMEO, TIMEOUT_MS)
    sock.connect(endpoint)
    results = {}
    try:
        for size in sizes:
            payload = b"x" * size
            _round_trips(sock, payload, WARMUP)
            results[str(size)] = summarize(_round_trips(sock, payload, rounds))
        sock.send(STOP)
        sock.recv()
    finally:
        sock.close()
        ctx.term()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    return {
        "available": True,
        "what": f"pyzmq {'REQ->REP' if rep else 'DEALER->ROUTER'} echo, two processes, tcp "
                "loopback",
        "pyzmq": zmq.__version__,
        "libzmq": zmq.zmq_version(),
        "endpoint": endpoint,
        "rounds": rounds,
        "warmup": WARMUP,
        "sizes": results,
        "seconds": round(time.perf_counter() - t_start, 2),
    }


def main() -> dict:
    res = measure()
    print_sizes(res)
    return res


if __name__ == "__main__":
    if "--json" in sys.argv:
        print(json.dumps(measure()))
    else:
        print(f"pid {os.getpid()}: zmq round trip")
        main()
