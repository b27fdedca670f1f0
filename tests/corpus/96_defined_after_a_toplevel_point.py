from swarm import checkpoint
# subprocess
# The module's resumer makes the defs and classes after a top-level point from the module's
# own code objects: defaults, keyword-only defaults, builtin decorators, bases, a metaclass
# and its keywords, zero-argument super(), a docstring, an annotated def (compiled again).


def noted(tag, value, log=[]):
    log.append(tag)
    return value


checkpoint()
SCALE = noted("scale", 3)


def scaled(x, k=SCALE, *rest, by=noted("by", 2), **kw):
    """Scaled by k and by."""
    checkpoint()
    return x * k * by + len(rest) + len(kw)


class Meta(type):
    def __new__(mcls, name, bases, ns, tag="none"):
        ns["tag"] = tag
        return super().__new__(mcls, name, bases, ns)


class Base:
    def value(self):
        checkpoint()
        return 10


checkpoint()


class Child(Base, metaclass=Meta, tag="child"):
    "A child."

    def value(self):
        return super().value() + 1


def annotated(x: int, *, y: "str" = "y") -> list:
    checkpoint()
    return [x, y]


@staticmethod
@property
def decorated(self):  # builtin decorators stay (the code object starts at the first)
    return "decorated"


checkpoint()
RESULT = (scaled(2), scaled(1, 1, 9, by=1, z=0), scaled.__doc__, scaled.__defaults__,
          scaled.__kwdefaults__, scaled.__qualname__, Child().value(), Child.tag,
          Child.__doc__, type(Child).__name__, annotated(1),
          decorated.__func__.fget(None),
          noted.__defaults__[0])
print(RESULT)
