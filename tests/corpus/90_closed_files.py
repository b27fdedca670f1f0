from swarm import checkpoint
# subprocess
# A closed file travels (what `with open(...) as f` leaves in f), and the holder of a
# `with`'s manager lets go of it once it exited: a loop around a `with` migrates at every turn.
def write_all(path, n):
    for i in range(n):
        with open(path + str(i), "w") as f:
            f.write("x" * i)
        checkpoint()
    print(f.closed, f.name.endswith(str(n - 1)), f.mode, type(f).__name__)
    try:
        f.write("y")
    except ValueError as e:
        print("closed:", e)
    with open(path + "0", "rb") as g:
        data = g.read()
    checkpoint()
    print(g.closed, type(g).__name__, len(data))
    return n
import os
import tempfile

d = tempfile.mkdtemp()
RESULT = write_all(os.path.join(d, "f"), 3)
