from swarm import checkpoint
# subprocess
# Defect classes 11 and 13: a namedtuple class (made by library code in the program's
# namespace), a struct.Struct and its bound method travel; a generator holding an open file,
# suspended while it runs, cannot travel - the program goes on where it is (the generator
# rebuilt in place) and migrates again once the file is closed.
import collections
import struct

Stats = collections.namedtuple("Stats", "count total")
pack = struct.Struct(">H").pack


def lines(path, n):
    f = open(path)
    for _ in range(n):
        checkpoint()
        yield f.readline().rstrip()
    f.close()


def main():
    stats = Stats(0, 0)
    out = []
    for line in lines(__file__, 3):
        checkpoint()
        out.append(line)
        stats = Stats(stats.count + 1, stats.total + len(line))
    checkpoint()
    print(out, stats, pack(513))
    return stats


RESULT = tuple(main())
