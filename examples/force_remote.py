"""A forced remote variable: `Ref(value, at="n3")` puts the value on n3, not where we run.

    $ swarm run examples/force_remote.py
    started on n1
    created both notes, now on n3
    a note kept here read on n1
    a note kept on n3 read on n3

With `--policy fetch` the program never moves: the value is sent to n3 to be stored
there, and each read brings the value to the program instead.

    $ swarm run --policy fetch examples/force_remote.py
    started on n1
    created both notes, now on n1
    a note kept here read on n1
    a note kept on n3 read on n1

`swarm run --show-node --trace examples/force_remote.py` lists the hops: n1 -> n3 to create
the remote note, n3 -> n1 and n1 -> n3 for the two reads.
"""
from swarm import Ref, here

print("started on", here())
near = Ref("a note kept here")  # no `at`: the Ref lives where the program runs (n1)

# Forced onto n3. Under the default policy (migrate) the program itself goes to n3,
# carrying the value in its continuation, creates the Ref there - and stays on n3.
far = Ref("a note kept on n3", at="n3")
print("created both notes, now on", here())

# Touching a Ref that lives elsewhere moves the program to it: back to n1 for `near`...
print(near.get(), "read on", here())
# ...and to n3 again for `far`, where the value is read; the Refs themselves stay put.
print(far.get(), "read on", here())
