from swarm import checkpoint
# A top-level `for` left by `break` over a dict's items, and the dict then changes size: the
# loop's iterator (a compiler temporary among the module's globals) is dead and must not
# travel - a dict_itemiterator of a dict that changed size cannot be pickled.
# Found by tests/test_random_programs.py.
d = {"d": 0, "a": 0}
for k, v in d.items():
    if k:
        break
del d["a"]
checkpoint()
print("after", d)
for k, v in d.items():
    checkpoint()
    print("again", k, v)
    break
d["z"] = 1
checkpoint()
RESULT = sorted(d)
