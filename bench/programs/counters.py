"""Make argv[1] Refs holding 0 on node argv[2] (bench/atomic.py). RESULT: their ids."""

import sys

from swarm import Ref

RESULT = [Ref(0, at=sys.argv[2]).id for _ in range(int(sys.argv[1]))]
