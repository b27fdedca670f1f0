"""A user module imported by main.py: compiled by the import hook, so its frames migrate."""
from swarm import checkpoint

created = []


class Shape:
    def __init__(self, name):
        checkpoint()
        self.name = name
        created.append(name)

    def area(self):
        return 0


class Rect(Shape):
    def __init__(self, w, h):
        super().__init__("rect")
        self.w, self.h = w, h

    def area(self):
        checkpoint()
        return self.w * self.h


def total_area(shapes):
    total = 0
    for s in shapes:
        total += s.area()
        checkpoint()
    return total
