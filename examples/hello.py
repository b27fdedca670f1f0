"""Three Refs on three nodes: the program hops n1 -> n2 -> n3 to read them.

    $ swarm run examples/hello.py
    bumble bee read on n1
    honey bee read on n2
    stingless bee read on n3
"""
from swarm import Ref, here

a = Ref("bumble bee", at="n1")
b = Ref("honey bee", at="n2")
c = Ref("stingless bee", at="n3")
for r in (a, b, c):
    print(r.get(), "read on", here())
