from swarm import checkpoint
# @staticmethod and @classmethod with checkpoints, alternate constructors,
# classmethods called on subclasses.


class Counter:
    prefix = "C"

    def __init__(self, start):
        self.n = start

    @staticmethod
    def double(v):
        checkpoint()
        return v * 2

    @classmethod
    def from_pair(cls, a, b):
        checkpoint()
        total = cls.double(a) + b
        checkpoint()
        return cls(total)

    @classmethod
    def label(cls):
        checkpoint()
        return cls.prefix + ":" + cls.__name__

    def bump(self):
        self.n = Counter.double(self.n)
        checkpoint()
        return self.n


class Special(Counter):
    prefix = "S"

    @staticmethod
    def double(v):
        checkpoint()
        return v * 3


c1 = Counter.from_pair(2, 1)
checkpoint()
print("c1", c1.n, Counter.label())
s1 = Special.from_pair(2, 1)
print("s1", s1.n, Special.label(), type(s1).__name__)
print("bump", c1.bump(), s1.bump())
print("static on instance", c1.double(5), s1.double(5))
checkpoint()
print("labels", c1.label(), s1.label())
RESULT = (c1.n, s1.n, Special.label())
