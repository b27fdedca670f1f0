"""The sum of the values of the Refs whose ids are the arguments (bench/atomic.py)."""

import sys

from swarm import Ref

RESULT = sum(Ref.open(ref_id).get() for ref_id in sys.argv[1:])
