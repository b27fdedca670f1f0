from swarm import checkpoint
# try/except/else/finally with a checkpoint in exactly one part at a time.

log = []


def boom(flag):
    if flag:
        raise ValueError("boom")
    return "ok"


def cp_in_try(flag):
    try:
        log.append("try")
        checkpoint()
        r = boom(flag)
    except ValueError:
        log.append("except")
        r = "caught"
    else:
        log.append("else")
    finally:
        log.append("finally")
    return r


def cp_in_except(flag):
    try:
        log.append("try")
        r = boom(flag)
    except ValueError:
        log.append("except")
        checkpoint()
        r = "caught"
    else:
        log.append("else")
    finally:
        log.append("finally")
    return r


def cp_in_else(flag):
    try:
        log.append("try")
        r = boom(flag)
    except ValueError:
        log.append("except")
        r = "caught"
    else:
        log.append("else")
        checkpoint()
        r = r + "!"
    finally:
        log.append("finally")
    return r


def cp_in_finally(flag):
    r = None
    try:
        log.append("try")
        r = boom(flag)
    except ValueError:
        log.append("except")
        r = "caught"
    else:
        log.append("else")
    finally:
        log.append("finally")
        checkpoint()
        log.append("finally-after-cp")
    return r


results = []
for fn in (cp_in_try, cp_in_except, cp_in_else, cp_in_finally):
    for flag in (False, True):
        del log[:]
        r = fn(flag)
        print(fn.__name__, flag, r, log)
        results.append((fn.__name__, flag, r, list(log)))

# top-level, one part at a time
try:
    checkpoint()
    x = 1
except Exception:
    x = -1
print("toplevel try", x)
try:
    x = 1 / 0
except ZeroDivisionError:
    checkpoint()
    x = "zde"
print("toplevel except", x)
try:
    x = 2
finally:
    checkpoint()
    x = x * 100
print("toplevel finally", x)
RESULT = results
