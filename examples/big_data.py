"""A 100 MiB Ref processed where it lives: the program goes to the data, not the reverse.

    $ swarm run examples/big_data.py            # or: swarm run examples/big_data.py 8 (MiB)
    made 100 MiB of floats (13107200 values) on n2
    sum 85899339366400 computed on n2
    get + sum: 81.1 ms

(The last line is a timing and varies.) The value is made on n2 itself - the program moves
there, creates the Ref, and comes back to n1 with only the Ref's handle - so it never crosses
the wire. Reading it from n1 then moves the program (about 1.5 KB) to n2, where the value
is already in memory; the sum runs there. With `--policy fetch` the 100 MiB travel to n1
instead (`computed on n1`, 0.8-1.2 s against 70-110 ms here, on a 2-core machine loaded
3-4; the same sum in one process takes 80-110 ms there): compare the last line.
"""
import sys
import time

from swarm import Ref, here, move_to

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 100
count = mib * 2**20 // 8  # a float is 8 bytes of data

move_to("n2")
data = Ref(tuple(map(float, range(count))))  # made on n2, where the program is now
print(f"made {mib} MiB of floats ({count} values) on {here()}")
move_to("n1")  # back, carrying the handle only

start = time.time()  # wall clock: the program starts timing on n1 and stops on n2
total = sum(data.get())  # the program moves to n2 and sums the value there
elapsed = time.time() - start
print(f"sum {total:.0f} computed on {here()}")
print(f"get + sum: {elapsed * 1e3:.1f} ms")
