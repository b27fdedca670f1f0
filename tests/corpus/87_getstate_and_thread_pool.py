from swarm import checkpoint
# subprocess
# Defect class 10: a checkpoint inside __getstate__ (run while the continuation is pickled) is
# no place to move and does nothing; a suspension in a worker thread of a ThreadPool is seen
# before unwinding (library code between it and the program) - no hang, no bare Capture.
from multiprocessing.pool import ThreadPool

class Careful:
    def __init__(self, v):
        self.v = v
    def __getstate__(self):
        checkpoint()
        return {"v": self.v * 1}

def work(x):
    checkpoint()
    return x * x

def main():
    c = Careful(5)
    checkpoint()
    with ThreadPool(2) as pool:
        squares = pool.map(work, range(6))
    checkpoint()
    print(c.v, squares)
    return squares

RESULT = main()
