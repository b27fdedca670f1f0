"""`r.relocate(node)` moves a Ref's value to another node; the program does not follow it.

    $ swarm run examples/relocate.py
    made the report and its index on n1
    relocated the report to n3; the program is still on n1
    read 'Q3: 42 hives' on n3
    relocated it again, to n2; the program is still on n3
    an old handle from the index still finds it: read 'Q3: 42 hives' on n2

`--show-node` shows the last read's route: n1 -> n3 -> n2, forwarded by each node it left.
"""
from swarm import Ref, here

report = Ref("Q3: 42 hives")  # no `at`: made on n1, where the program starts
index = Ref({"q3": report})  # another Ref keeps a handle to it, saying "on n1"
print("made the report and its index on", here())

# The value goes to n3; the program stays where it is (the value was here, on n1).
report.relocate("n3")
print("relocated the report to n3; the program is still on", here())
# The next access follows the value: the program moves to n3 to read it.
print("read", repr(report.get()), "on", here())

# A relocation is an access like get(): from elsewhere, the program would first go to
# where the value is. Here it is on n3 already, and it stays there.
report.relocate("n2")
print("relocated it again, to n2; the program is still on", here())

# A handle saved before the moves still says n1. Each node a Ref leaves remembers where
# it went, so the read is forwarded n1 -> n3 -> n2 and finds the value.
old = index.get()["q3"]  # the index lives on n1: the program goes back there first
print("an old handle from the index still finds it: read", repr(old.get()), "on", here())
