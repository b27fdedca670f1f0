from swarm import checkpoint
# subprocess
# try/except/else/finally with checkpoints in every part at once, several
# except clauses, exception tuples, exceptions propagating through a finally
# that checkpoints.

log = []


class AppError(Exception):
    pass


class NotFound(AppError):
    pass


def work(kind):
    checkpoint()
    if kind == "value":
        raise ValueError("bad value")
    if kind == "key":
        return {}["missing"]
    if kind == "notfound":
        raise NotFound("nothing here")
    if kind == "type":
        raise TypeError("wrong type")
    return kind.upper()


def handle(kind):
    try:
        log.append("try:" + kind)
        checkpoint()
        r = work(kind)
        checkpoint()
        log.append("try-done")
    except (ValueError, KeyError) as e:
        checkpoint()
        log.append("except-vk:" + type(e).__name__)
        r = "vk"
    except AppError as e:
        checkpoint()
        log.append("except-app:" + str(e))
        r = "app"
    else:
        checkpoint()
        log.append("else")
        r = r + "!"
    finally:
        checkpoint()
        log.append("finally:" + kind)
    checkpoint()
    return r


outs = []
for kind in ["ok", "value", "key", "notfound"]:
    outs.append(handle(kind))
    print(kind, outs[-1])


def outer():
    try:
        handle("type")
    except TypeError as e:
        checkpoint()
        log.append("outer caught " + str(e))
        return "recovered"
    finally:
        log.append("outer finally")


print("outer", outer())
for line in log:
    print(" ", line)
RESULT = (outs, log)
