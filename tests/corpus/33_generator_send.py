from swarm import checkpoint
# Generators driven with send(): a running averager, a coroutine-style
# accumulator that checkpoints inside its body, throw() and close().


def averager():
    total = 0
    count = 0
    avg = None
    while True:
        value = yield avg
        checkpoint()
        if value is None:
            break
        total += value
        count += 1
        avg = total / count
        checkpoint()
    return total


def tagged():
    seen = []
    tag = yield "ready"
    while True:
        checkpoint()
        seen.append(tag)
        try:
            tag = yield "|".join(seen)
        except ValueError as e:
            checkpoint()
            seen.append("err:" + str(e))
            tag = yield "recovered"


avg = averager()
print("prime", next(avg))
checkpoint()
outs = []
for v in [10, 20, 60]:
    outs.append(avg.send(v))
    checkpoint()
print("averages", outs)
try:
    avg.send(None)
except StopIteration as e:
    checkpoint()
    print("final total", e.value)

t = tagged()
print(next(t))
checkpoint()
print(t.send("a"))
print(t.send("b"))
checkpoint()
print(t.throw(ValueError("bad")))
print(t.send("c"))
t.close()
checkpoint()
try:
    t.send("d")
except StopIteration:
    print("closed")
RESULT = outs
