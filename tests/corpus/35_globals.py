from swarm import checkpoint
# subprocess
# `global` statements and module globals (ints, lists, dicts, rebinding and
# in-place mutation) changed by functions across checkpoints; functions
# reading globals defined after them; globals shared between objects.

COUNTER = 0
LOG = []
CONFIG = {"mode": "init", "level": 1}
shared = LOG


def bump(n):
    global COUNTER
    checkpoint()
    COUNTER += n
    LOG.append(("bump", n, COUNTER))
    checkpoint()
    return COUNTER


def rebind_log():
    global LOG
    old = LOG
    checkpoint()
    LOG = old + [("rebound",)]
    return len(old)


def configure(**kw):
    checkpoint()
    CONFIG.update(kw)
    CONFIG["level"] += 1


def define_late():
    global LATE
    checkpoint()
    LATE = "defined at runtime"


def uses_later():
    checkpoint()
    return AFTER * 2


for i in range(1, 4):
    bump(i)
    checkpoint()
    print("COUNTER", COUNTER)
print("shared is LOG", shared is LOG, len(shared))
n_old = rebind_log()
checkpoint()
print("shared is LOG after rebind", shared is LOG, n_old, len(LOG), len(shared))
configure(mode="run", extra=True)
print("CONFIG", CONFIG)
define_late()
print("LATE", LATE)
AFTER = 21
print("uses_later", uses_later())
del AFTER
try:
    uses_later()
except NameError as e:
    checkpoint()
    print("NameError", "AFTER" in str(e))
print("LOG", LOG)
RESULT = (COUNTER, LOG, CONFIG, LATE)
