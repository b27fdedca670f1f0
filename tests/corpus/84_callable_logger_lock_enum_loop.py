from swarm import checkpoint
# subprocess
# Defect class 11: calling an instance with __call__ migrates; a logger keeps its handlers,
# a lock nobody holds travels (a new, unlocked one), a loop over an Enum class migrates,
# a dataclass's generated methods travel.
import dataclasses
import enum
import io
import logging
import threading

stream = io.StringIO()
log = logging.getLogger("corpus84")
log.propagate = False
log.addHandler(logging.StreamHandler(stream))
log.setLevel(logging.INFO)
guard = threading.Lock()


class Kind(enum.Enum):
    SMALL = 1
    LARGE = 2


@dataclasses.dataclass
class Item:
    kind: Kind
    size: int


class Scale:
    def __init__(self, k):
        self.k = k

    def __call__(self, x):
        checkpoint()
        return self.k * x


def double(x):
    return 2 * x


def main():
    scale = Scale(3)
    items = []
    for kind in Kind:
        checkpoint()
        items.append(Item(kind, scale(kind.value)))
        log.info("made %s", items[-1])
    with guard:
        total = sum(i.size for i in items)
    checkpoint()
    print(items, total, guard.locked())
    print(double(21))
    return total


RESULT = main()
checkpoint()
print(stream.getvalue().splitlines())
