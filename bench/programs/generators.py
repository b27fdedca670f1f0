"""A chained pipeline of user generator functions consumed by for loops."""

COUNT = 400_000


def source(n):
    state = 12345
    for _ in range(n):
        state = (state * 1103515245 + 12345) % 2**31
        yield state


def keep(items, predicate):
    for item in items:
        if predicate(item):
            yield item


def scale(items, factor):
    for item in items:
        yield (item % 1000) * factor


def window(items, size):
    buf = []
    for item in items:
        buf.append(item)
        if len(buf) > size:
            buf.pop(0)
        if len(buf) == size:
            yield tuple(buf)


def batch(items, size):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run():
    total = 0
    pipeline = window(scale(keep(source(COUNT), lambda x: x % 3 != 0), 3), 4)
    for chunk in batch((sum(w) - min(w) for w in pipeline), 16):
        total += sum(chunk) // len(chunk)
    evens = sum(x for x in scale(source(COUNT // 4), 2) if x % 4 == 0)
    return total, evens
