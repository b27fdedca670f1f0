from swarm import checkpoint
# subprocess
# Defect class 4: numpy views keep sharing memory with their base array after every hop
# (numpy's own pickling copies a view).
import numpy as np

def main():
    base = np.arange(24, dtype=np.int64).reshape(4, 6)
    row = base[1]
    col = base[:, 2]
    block = base[1:3, ::2]
    t = base.T
    checkpoint()
    row[0] = 100
    col[3] = -1
    block[1, 1] = 555
    t[5, 0] = 42
    checkpoint()
    print(base.tolist())
    print(row.tolist(), col.tolist(), block.tolist())
    print(np.shares_memory(base, row), np.shares_memory(base, t), block.flags.writeable)
    return int(base.sum())

RESULT = main()
