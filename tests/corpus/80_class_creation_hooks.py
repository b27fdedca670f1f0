from swarm import checkpoint
# subprocess
# Defect classes 8, 11, 14: classes whose creation runs hooks (__init_subclass__, a metaclass,
# __set_name__), abc.ABC, Enum, IntEnum, a frozen dataclass, a TypeVar, a Protocol: all
# travel (with the C pickler), and no hook runs again after a hop.
import abc, enum, dataclasses, typing

REGISTRY = []

class Base:
    def __init_subclass__(cls, tag="", **kw):
        super().__init_subclass__(**kw)
        REGISTRY.append((cls.__name__, tag))
        cls.tag = tag.upper()

class A(Base, tag="a"):
    pass

class B(A, tag="b"):
    def who(self):
        return "B" + self.tag

class Meta(type):
    def __new__(mcls, name, bases, ns):
        ns["made_by"] = "Meta"
        return super().__new__(mcls, name, bases, ns)

class M(metaclass=Meta):
    pass

class Desc:
    def __set_name__(self, owner, name):
        self.name = name
    def __get__(self, obj, owner):
        return f"desc {self.name}"

class D:
    x = Desc()

class Shape(abc.ABC):
    @abc.abstractmethod
    def area(self): ...

class Sq(Shape):
    def area(self): return 4

class Color(enum.Enum):
    RED = 1
    GREEN = 2

class Num(enum.IntEnum):
    ONE = 1
    TWO = 2

@dataclasses.dataclass(frozen=True)
class P:
    x: int
    y: int = 0

T = typing.TypeVar("T")

class Proto(typing.Protocol):
    def area(self) -> int: ...

def main():
    c = Color.GREEN
    for i in range(2):
        checkpoint()
        print(REGISTRY, B().who(), M.made_by, D().x, Sq().area(), isinstance(Sq(), Shape))
        print(c, c is Color.GREEN, Color(1), list(Color), Num.TWO + 1, P(1, 2), P(3) == P(3), T)
        try:
            Shape()
        except TypeError as e:
            print("abstract", str(e)[:40])
    return len(REGISTRY)

RESULT = main()
