from swarm import checkpoint
# subprocess
# One resumer per function, entered through guards: every kind of statement re-entered at
# each of its points - tests with side effects not evaluated again, handlers chosen by the
# first match, loop `else` clauses after `break`, `continue` and exhaustion, a `for` over a
# generator that suspends in its `next`, points in `try`'s else, straight-line runs of points.

calls = []


def noted(tag, value):
    calls.append(tag)
    return value


def branches(n):
    out = []
    if noted("t1", n % 3 == 0):
        checkpoint()
        out.append("three")
    elif noted("t2", n % 3 == 1):
        out.append("one")
        checkpoint()
        out.append("one again")
    else:
        checkpoint()
        out.append("two")
    if noted("t3", n > 2):
        out.append("big")
    else:
        checkpoint()
        out.append("small")
    return out


def handlers(k):
    log = []
    for i in range(k):
        try:
            checkpoint()
            if i % 3 == 0:
                raise KeyError(i)
            if i % 3 == 1:
                raise ValueError(i)
            log.append(("ok", i))
        except LookupError as e:  # the KeyError's handler, though the next also matches
            checkpoint()
            log.append(("lookup", e.args[0]))
            try:
                checkpoint()
                raise
            except KeyError:
                checkpoint()
                log.append("reraised")
        except (KeyError, ValueError) as e:
            log.append(("value", type(e).__name__))
            checkpoint()
            log.append(("value after", e.args[0]))
        else:
            checkpoint()
            log.append(("else", i))
        finally:
            log.append(("finally", i))
        checkpoint()
    return log


def numbers(n):
    for i in range(n):
        checkpoint()
        yield i * i
        checkpoint()


def loops():
    out = []
    for sq in numbers(6):  # its `next` suspends inside the generator
        checkpoint()
        if sq == 1:
            continue
        if sq == 16:
            out.append("break")
            break
        out.append(sq)
    else:
        out.append("never")
    for sq in numbers(3):
        out.append(sq)
    else:
        checkpoint()
        out.append("exhausted")
    for word in ["a", "b"]:  # no point in its body: only in its else
        out.append(word)
    else:
        checkpoint()
        out.append("words done")
    i = 0
    while noted("w", i < 4):
        i += 1
        checkpoint()
        if i == 2:
            continue
        out.append(i)
    else:
        checkpoint()
        out.append("while else")
    for a in range(3):
        for b in range(3):
            checkpoint()
            if b > a:
                break
            if (a + b) % 2:
                continue
            out.append((a, b))
        else:
            checkpoint()
            out.append(("inner else", a))
    return out


def straight():
    total = 0
    for step in range(1, 13):
        checkpoint()
        total = total * 3 + step
        checkpoint()
        total %= 1000003
    a = noted("s1", 1)
    checkpoint()
    b = noted("s2", a + 1)
    checkpoint()
    c = noted("s3", b + 1)
    checkpoint()
    return total, a, b, c


def gen_in_try(n):
    for i in range(n):
        try:
            checkpoint()
            x = yield i
            if x == "boom":
                raise RuntimeError(x)
        except RuntimeError as e:
            checkpoint()
            yield ("caught", str(e))
        else:
            checkpoint()
            yield ("sent", x)


print([branches(n) for n in range(5)])
print(handlers(7))
print(loops())
print(straight())
g = gen_in_try(3)
seen = [next(g)]
for v in ("x", "boom", None, "y"):
    checkpoint()
    seen.append(g.send(v))
print(seen)

top = []
for n in range(4):
    checkpoint()
    if n == 9:
        break
else:
    checkpoint()
    top.append("top else")
try:
    checkpoint()
    top.append("try")
except ValueError:
    top.append("no")
else:
    checkpoint()
    top.append("try else")
print(top)
print(len(calls), calls[:12])
RESULT = (len(calls), top)
