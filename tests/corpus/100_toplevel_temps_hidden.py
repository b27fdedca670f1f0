from swarm import checkpoint
# subprocess
# The compiler's temporaries at a module's top level (`_sw_t3 = print`, a lifted
# `_sw_listcomp_1`, a loop's `_sw_it5`) are not globals the program sees: globals(), dir(),
# vars() and locals() there show what CPython shows, before and after each migration, in
# the module's code and in its resumer; and a top-level `from ... import *` after a point
# (the resumer runs it again, where CPython refuses `import *` in a function).
import os.path

import star_helper

STARRED = set(os.path.__all__)


def names(namespace):
    return sorted(k for k in namespace if not k.startswith("__") and k not in STARRED)


def step(x):
    checkpoint()
    return x + 1


def seen():
    return names(globals())


print(seen(), step(1), seen())
print(names(vars(star_helper)) == names(dir(star_helper)), [k for k in vars(star_helper)
                                                            if k.startswith("_sw")])
print(star_helper.SIZE, star_helper.JOINED)
checkpoint()
from os.path import *  # noqa: E402,F403

print(join("p", "q"), [step(j) for j in range(2)], seen())
for i in range(2):
    print(i, [step(j) for j in range(2)], seen(), step(i) + step(i))
    print(names(dir()), names(vars()) == names(locals()) == names(globals()))
total = sum(step(k) for k in range(3))
print(total, seen(), "i" in dir(), [k for k in globals() if k.startswith("_sw")])
RESULT = (seen(), total)
