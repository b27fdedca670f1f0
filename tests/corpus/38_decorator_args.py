from swarm import checkpoint
# Decorators with arguments (three-level nesting): a retry decorator that
# catches exceptions and retries after a checkpoint, a prefixing decorator,
# and a registry decorator that records functions in a module-level dict.

REGISTRY = {}
attempts = []


def retry(times, on=(Exception,)):
    def deco(fn):
        def wrapper(*a, **kw):
            for i in range(times):
                checkpoint()
                try:
                    return fn(*a, **kw)
                except on as e:
                    attempts.append((fn.__name__, i, str(e)))
                    checkpoint()
            raise RuntimeError("gave up after %d" % times)
        return wrapper
    return deco


def prefix(p, sep=": "):
    checkpoint()

    def deco(fn):
        def wrapper(*a, **kw):
            checkpoint()
            return p + sep + str(fn(*a, **kw))
        return wrapper
    return deco


def register(name):
    def deco(fn):
        REGISTRY[name] = fn
        return fn
    return deco


state = {"n": 0}


@retry(5, on=(ValueError,))
def flaky():
    state["n"] += 1
    checkpoint()
    if state["n"] < 3:
        raise ValueError("fail %d" % state["n"])
    return "succeeded on %d" % state["n"]


@retry(2)
def hopeless():
    checkpoint()
    raise KeyError("never")


@register("greet")
@prefix("GREETING", sep=" -> ")
def greet(name):
    checkpoint()
    return "hi " + name


@register("square")
def square(x):
    checkpoint()
    return x * x


print("flaky", flaky())
try:
    hopeless()
except RuntimeError as e:
    checkpoint()
    print("hopeless", e)
print("attempts", attempts)
print("registry", sorted(REGISTRY))
checkpoint()
print("call via registry", REGISTRY["greet"]("ann"), REGISTRY["square"](9))
RESULT = (attempts, sorted(REGISTRY), REGISTRY["greet"]("bo"))
