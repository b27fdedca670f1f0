from swarm import checkpoint
# subprocess
# Defect class 16: large module globals and locals cross to each process once, by content
# hash - and stay right: a table changed in place between hops is sent again, two names
# for one table still name one table after the hop.
TABLE = list(range(50_000))
NAMES = {i: str(i) for i in range(20_000)}


def work():
    local_big = bytes(range(256)) * 400
    alias = TABLE
    for step in range(4):
        checkpoint()
        TABLE[step] = -step
        alias.append(step)
        print(step, TABLE[:5], len(TABLE), alias is TABLE, len(local_big), NAMES[step * 7])
    return sum(TABLE)


RESULT = work()
checkpoint()
NAMES[3] = "three"
checkpoint()
print(NAMES[3], len(NAMES), TABLE[-3:])
