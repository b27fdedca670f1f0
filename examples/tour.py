"""A program that is captured and resumed in another OS process at every checkpoint().

Run it with `swarm migrate examples/tour.py -p` (or `make demo`): the pid changes at every
stop, while the loop, the locals and the list being built carry on as if nothing happened.
"""
import os

from swarm import checkpoint


def visit(stops):
    log = []
    for n, stop in enumerate(stops, 1):
        checkpoint()  # here the whole program may move to another process
        log.append((stop, os.getpid()))
        print(f"stop {n}: {stop:<7} in process {os.getpid()}")
    return log


trip = visit(["london", "paris", "berlin", "rome"])
RESULT = len({pid for _, pid in trip})
print("the trip ran in", RESULT, "processes")
