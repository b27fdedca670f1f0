"""The fault suites: fast versions in `make test`, long ones in `make faults` (SWARM_LONG=1)."""

import os
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in sys.path:  # helpers.py
    sys.path.insert(0, TESTS)

LONG = os.environ.get("SWARM_LONG") == "1"
