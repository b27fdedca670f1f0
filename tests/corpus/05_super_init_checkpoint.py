from swarm import checkpoint
# Checkpoints inside __init__ at several levels of a hierarchy that chain via
# zero-argument super().__init__(), and inside other super() calls.

events = []


class Base:
    def __init__(self, x):
        events.append("Base.enter")
        checkpoint()
        self.x = x
        self.tags = ["base"]
        events.append("Base.exit")

    def value(self):
        checkpoint()
        return self.x


class Middle(Base):
    def __init__(self, x, y):
        events.append("Middle.enter")
        checkpoint()
        super().__init__(x)
        checkpoint()
        self.y = y
        self.tags.append("middle")
        events.append("Middle.exit")

    def value(self):
        v = super().value()
        checkpoint()
        return v + self.y


class Leaf(Middle):
    def __init__(self, x, y, z=7):
        events.append("Leaf.enter")
        super().__init__(x, y)
        checkpoint()
        self.z = z
        self.tags.append("leaf")
        events.append("Leaf.exit")

    def value(self):
        checkpoint()
        return super().value() * self.z


obj = Leaf(1, 2)
checkpoint()
print("events", events)
print("attrs", obj.x, obj.y, obj.z, obj.tags)
v = obj.value()
print("value", v)
obj2 = Leaf(3, 4, z=10)
checkpoint()
print("value2", obj2.value(), obj2.tags)
print("isinstance", isinstance(obj2, Base), isinstance(obj2, Middle), type(obj2).__name__)
RESULT = (events, v, obj2.value(), obj.tags)
