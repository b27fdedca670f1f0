from swarm import checkpoint
# `and` / `or` / `not` with checkpointing operands. Short-circuit must hold: the
# list of evaluated operands is printed.

evaluated = []


def t(tag, v):
    evaluated.append(tag)
    checkpoint()
    return v


def run(expr_id):
    del evaluated[:]
    if expr_id == 0:
        r = t("a", 0) and t("b", 1)
    elif expr_id == 1:
        r = t("a", 2) and t("b", 3)
    elif expr_id == 2:
        r = t("a", "") or t("b", "x")
    elif expr_id == 3:
        r = t("a", "first") or t("b", "second")
    elif expr_id == 4:
        r = t("a", 1) and t("b", 0) or t("c", "fallback")
    elif expr_id == 5:
        r = t("a", None) or t("b", 0) or t("c", []) or t("d", "last")
    elif expr_id == 6:
        r = not t("a", 0) and (t("b", 5) or t("c", 6))
    else:
        r = t("a", 1) and t("b", 2) and t("c", 3) and t("d", 0) and t("e", 4)
    checkpoint()
    return r, list(evaluated)


out = []
for i in range(8):
    res = run(i)
    print(i, res)
    out.append(res)

evaluated.clear()
if t("g1", True) and not t("g2", False) or t("g3", True):
    checkpoint()
    print("if-condition", evaluated)
while t("w", len(evaluated) < 8) and t("w2", True):
    checkpoint()
print("while evaluated", evaluated)
RESULT = out
