from swarm import checkpoint
# return / break / continue inside try blocks whose finally does NOT
# checkpoint (allowed), with checkpoints in the try body right before them;
# finally must run exactly once, the return value is preserved, and a finally
# that overrides the return value.

log = []


def early_return(x):
    try:
        checkpoint()
        if x > 0:
            checkpoint()
            return "positive"
        log.append("not positive")
    finally:
        log.append("finally %d" % x)
    checkpoint()
    return "non-positive"


def loop_control():
    out = []
    for i in range(6):
        try:
            checkpoint()
            if i == 1:
                continue
            if i == 4:
                break
            out.append(i)
        finally:
            log.append("loop finally %d" % i)
    checkpoint()
    return out


def while_control():
    i = 0
    while True:
        i += 1
        try:
            checkpoint()
            if i < 3:
                continue
            checkpoint()
            break
        finally:
            log.append("while finally %d" % i)
    return i


def override():
    try:
        checkpoint()
        return "from try"
    finally:
        log.append("override finally")
        return "from finally"  # noqa: B012  (deliberate)


def return_in_except():
    try:
        checkpoint()
        raise KeyError("x")
    except KeyError:
        checkpoint()
        return "from except"
    finally:
        log.append("except finally")


res = [early_return(1), early_return(-1), loop_control(), while_control(),
       override(), return_in_except()]
checkpoint()
print("res", res)
for line in log:
    print(line)
RESULT = (res, log)
