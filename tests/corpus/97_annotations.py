from swarm import checkpoint
# subprocess
# Annotations as CPython makes them: evaluated (not strings: the compiler's output must not
# inherit swarm's own `from __future__ import annotations`), and kept by a function that
# travels (its pickled state lost them: {} after a hop). A string annotation stays a string.


def area(w: int, h: "float" = 1.0, *, unit: str = "m") -> float:
    checkpoint()
    return w * h


class Box:
    size: int = 3

    def grow(self, by: int) -> "Box":
        checkpoint()
        self.size += by
        return self


def names(fn):
    return sorted((k, v if isinstance(v, str) else v.__name__)
                  for k, v in fn.__annotations__.items())


checkpoint()
print(names(area))
print(area(2, 3.0))
print(names(Box.grow), Box.__annotations__["size"].__name__)
b = Box().grow(2)
checkpoint()
print(b.size, names(area), names(Box.grow))
keep = area
checkpoint()
print(names(keep))
