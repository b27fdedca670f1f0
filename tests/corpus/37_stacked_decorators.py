from swarm import checkpoint
# Stacked user decorators (order of application and of wrapper execution),
# a memoizing decorator with a dict cache, a counting decorator storing state
# on the wrapper function, all checkpointing.

order = []


def bold(fn):
    def wrapper(*a, **kw):
        order.append("bold-in")
        checkpoint()
        r = "<b>" + fn(*a, **kw) + "</b>"
        checkpoint()
        order.append("bold-out")
        return r
    return wrapper


def italic(fn):
    def wrapper(*a, **kw):
        order.append("italic-in")
        r = fn(*a, **kw)
        checkpoint()
        order.append("italic-out")
        return "<i>" + r + "</i>"
    return wrapper


def memo(fn):
    cache = {}

    def wrapper(n):
        if n in cache:
            checkpoint()
            return cache[n]
        r = fn(n)
        checkpoint()
        cache[n] = r
        return r
    wrapper.cache = cache
    return wrapper


def counted(fn):
    def wrapper(*a, **kw):
        wrapper.calls += 1
        checkpoint()
        return fn(*a, **kw)
    wrapper.calls = 0
    return wrapper


@bold
@italic
def text(s):
    order.append("text")
    checkpoint()
    return s.title()


@counted
@memo
def fib(n):
    checkpoint()
    return n if n < 2 else fib(n - 1) + fib(n - 2)


print(text("hello world"))
print("order", order)
print("fib", fib(15))
checkpoint()
print("fib calls", fib.calls)
print("fib again", fib(15), fib.calls)
RESULT = (text("x"), fib(20), fib.calls, order)
