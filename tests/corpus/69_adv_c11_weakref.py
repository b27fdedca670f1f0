from swarm import checkpoint
import weakref
class R: pass
def run():
    r = R()
    checkpoint()
    return weakref.ref(r)
w = run()
RESULT = w() is None
