from swarm import checkpoint
# subprocess
# A parameter named `_` is restored by itself, not in the mapping pattern that restores the
# others at once (`_` is the wildcard there, which captures nothing): the resumer of a
# function taking `_` and another parameter was a ValueError ("can't capture name '_' in
# patterns") when it was built, that is when a frame of it was first resumed.


def pick(_, value, scale=2):
    checkpoint()
    return value * scale + _


def accumulate(owner, _):
    total = 0
    for i in range(3):
        checkpoint()
        total += i + _
    return owner, total


def unused(_, *rest):
    first = rest[0] if rest else None
    checkpoint()
    return first, len(rest)


RESULT = (pick(1, 5), accumulate("me", 10), unused("ignored", 4, 5))
print(RESULT)
