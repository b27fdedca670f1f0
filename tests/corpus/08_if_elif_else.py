from swarm import checkpoint
# if/elif/else with checkpoints in conditions (via calls) and in every branch.


def probe(v):
    checkpoint()
    return v


def classify(n):
    checkpoint()
    if probe(n) < 0:
        checkpoint()
        kind = "neg"
    elif probe(n) == 0:
        checkpoint()
        kind = "zero"
    elif probe(n) % 2 == 0:
        kind = "even"
        checkpoint()
        if n > 10:
            checkpoint()
            kind += "-big"
        else:
            checkpoint()
            kind += "-small"
    else:
        checkpoint()
        kind = "odd"
    checkpoint()
    return kind


results = []
for n in [-3, 0, 4, 12, 7, 100, -100, 1]:
    k = classify(n)
    print(n, k)
    results.append(k)

x = 5
if x > 3:
    checkpoint()
    print("top-level if branch", x)
    x = x * 2
else:
    checkpoint()
    print("never")
if x == 11:
    print("never")
elif x == 10:
    checkpoint()
    print("top-level elif", x)
checkpoint()
RESULT = results
