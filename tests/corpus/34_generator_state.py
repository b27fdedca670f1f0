from swarm import checkpoint
# Generators holding rich state across yields (dicts, lists, nested loops,
# locals that change between yields, a generator calling another generator via
# an explicit loop, an infinite generator) with checkpoints in and around them.


def tokens(text):
    word = []
    pos = 0
    for ch in text:
        pos += 1
        if ch.isalnum():
            word.append(ch)
            continue
        if word:
            checkpoint()
            yield ("word", "".join(word), pos)
            word = []
        if ch != " ":
            checkpoint()
            yield ("sym", ch, pos)
    if word:
        yield ("word", "".join(word), pos)


def numbered(gen):
    n = 0
    state = {"words": 0, "syms": 0}
    for kind, val, pos in gen:
        n += 1
        state[kind + "s"] += 1
        checkpoint()
        yield n, kind, val, dict(state)


def naturals():
    i = 0
    while True:
        checkpoint()
        yield i
        i += 1


out = []
for item in numbered(tokens("let x = (a + b1) * 3;")):
    checkpoint()
    out.append(item)
for o in out:
    print(o)

nat = naturals()
sq = []
while True:
    v = next(nat)
    checkpoint()
    if v > 6:
        break
    if v % 2:
        continue
    sq.append(v * v)
print("sq", sq, "next", next(nat))
RESULT = out
