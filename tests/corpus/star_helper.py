"""A module the corpus imports (corpus 100; not a corpus program): its top level reaches a
point (a call of a compiled function) before and after a `from ... import *`, and holds
compiler temporaries there, which `vars(star_helper)` must not show."""
from os.path import *


def double(x):
    return 2 * x


SIZE = double(3) + double(4)
from posixpath import *  # noqa: E402,F401,F403 - after a point: its resumer runs it again

JOINED = join("a", basename("x/b"))
