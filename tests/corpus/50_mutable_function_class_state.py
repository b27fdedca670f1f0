from swarm import checkpoint
# State that lives on function and class objects, mutated across checkpoints:
# a mutable default argument, a class attribute counter, a function attribute.
# (A real program's behaviour depends on all of these surviving a resume.)


def remember(x, seen=[]):
    seen.append(x)
    checkpoint()
    return list(seen)


class Widget:
    created = 0
    registry = []

    def __init__(self, name):
        Widget.created += 1
        self.name = name
        Widget.registry.append(name)

    @classmethod
    def count(cls):
        checkpoint()
        return cls.created


def ticker():
    ticker.ticks += 1
    checkpoint()
    return ticker.ticks


ticker.ticks = 0

print(remember(1))
checkpoint()
print(remember(2))
print(remember(3, []))
print(remember(4))
for name in ["a", "b", "c"]:
    Widget(name)
    checkpoint()
    print("created", Widget.count(), Widget.registry)
for _ in range(3):
    print("tick", ticker())
    checkpoint()
RESULT = (remember(5), Widget.created, Widget.registry, ticker.ticks)
