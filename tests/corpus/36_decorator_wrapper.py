from swarm import checkpoint
# A user-written decorator whose wrapper(*a, **kw) checkpoints before and after
# calling the wrapped function; applied to plain functions, methods, recursive
# functions (recursion goes through the wrapper) and functions that raise.

calls = []


def traced(fn):
    name = fn.__name__

    def wrapper(*a, **kw):
        calls.append("enter " + name)
        checkpoint()
        try:
            result = fn(*a, **kw)
        except Exception as e:
            checkpoint()
            calls.append("raised " + name + " " + type(e).__name__)
            raise
        checkpoint()
        calls.append("exit %s -> %r" % (name, result))
        return result
    wrapper.__name__ = name
    wrapper.__wrapped__ = fn
    return wrapper


@traced
def add(a, b=1, *, scale=1):
    checkpoint()
    return (a + b) * scale


@traced
def fact(n):
    checkpoint()
    return 1 if n <= 1 else n * fact(n - 1)


@traced
def explode(msg):
    checkpoint()
    raise RuntimeError(msg)


class Acct:
    def __init__(self):
        self.bal = 0

    @traced
    def deposit(self, amt):
        checkpoint()
        self.bal += amt
        return self.bal


print("add", add(2), add(2, 3, scale=10))
print("fact", fact(5))
try:
    explode("kaboom")
except RuntimeError as e:
    print("caught", e)
acct = Acct()
acct.deposit(5)
checkpoint()
print("deposit", acct.deposit(7), add.__name__, add.__wrapped__(1, 1))
for c in calls:
    print(c)
RESULT = (calls, acct.bal)
