"""Checkers of recorded histories, as the trusted systems are checked (issue 20 item 4, issue 19
item 4): `elle` finds transaction anomalies (G0, G1a, G1b, G1c, G-single, G2, lost updates,
duplicated appends) in list-append histories, in the style of Jepsen's Elle; `linear` checks
single-register histories (get / set / update) for linearizability, Wing-Gong style with
memoisation, in the style of Knossos.

Both are test tooling: the simulator (tests/sim/atomic.py) and the real-process tests record
histories and check them. No Python library that is maintained and on PyPI does either (Elle
and Knossos are Clojure, elle-cli needs a JVM), so these are our own, small ones.
"""
