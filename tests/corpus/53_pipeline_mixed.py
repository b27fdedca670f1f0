from swarm import checkpoint
# Mixed: a data pipeline built from generator stages (checkpointing), closures
# configuring the stages, a decorator timing stages by a fake clock (global),
# lambdas as predicates, comprehensions summarizing the output.

CLOCK = 0


def tick(n=1):
    global CLOCK
    checkpoint()
    CLOCK += n
    return CLOCK


def timed(label):
    def deco(fn):
        def wrapper(*a, **kw):
            start = tick()
            out = fn(*a, **kw)
            checkpoint()
            print("stage %s built at t=%d" % (label, start))
            return out
        return wrapper
    return deco


@timed("source")
def source(n):
    for i in range(n):
        tick()
        yield {"id": i, "val": (i * 37) % 11}


@timed("filter")
def where(pred, stream):
    for rec in stream:
        checkpoint()
        if pred(rec):
            yield rec


@timed("map")
def enrich(fn, stream):
    for rec in stream:
        rec = dict(rec)
        rec["extra"] = fn(rec)
        checkpoint()
        yield rec


def make_scaler(k):
    calls = [0]

    def scale(rec):
        calls[0] += 1
        checkpoint()
        return rec["val"] * k
    scale.calls = calls
    return scale


scaler = make_scaler(3)
pipe = enrich(scaler, where(lambda r: r["val"] % 2 == 1, source(12)))
rows = []
for rec in pipe:
    checkpoint()
    rows.append(rec)
    print("row", rec)
summary = {
    "n": len(rows),
    "ids": [r["id"] for r in rows],
    "total": sum(tick(0) * 0 + r["extra"] for r in rows),
    "max": max(r["extra"] for r in rows),
    "scaled": scaler.calls[0],
}
print("summary", summary, "clock", CLOCK)
RESULT = (summary, CLOCK)
