from swarm import checkpoint
# A JSON-like tree (nested dicts/lists/scalars) walked recursively: count
# nodes by type, collect paths to leaves, sum numbers, transform a copy,
# find the max depth; checkpoints in every recursive call.

DOC = {
    "name": "root",
    "version": 3,
    "tags": ["a", "b", {"deep": [1, 2, [3, 4.5]]}],
    "owner": {"id": 7, "active": True, "roles": ["admin", "dev"], "meta": None},
    "items": [{"id": i, "price": i * 1.5, "qty": i % 3} for i in range(4)],
}


def kind(v):
    if isinstance(v, bool):
        return "bool"
    if v is None:
        return "null"
    return type(v).__name__


def walk(node, path, visit):
    checkpoint()
    visit(node, path)
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, path + [k], visit)
            checkpoint()
    elif isinstance(node, list):
        for i, v in enumerate(node):
            checkpoint()
            walk(v, path + [i], visit)


counts = {}
leaves = []


def visitor(node, path):
    t = kind(node)
    counts[t] = counts.get(t, 0) + 1
    if t not in ("dict", "list"):
        checkpoint()
        leaves.append(("/".join(str(p) for p in path), node))


walk(DOC, [], visitor)
print("counts", sorted(counts.items()))
for p, v in leaves:
    print(" ", p, "=", v)


def total(node):
    checkpoint()
    if isinstance(node, bool) or node is None or isinstance(node, str):
        return 0
    if isinstance(node, (int, float)):
        return node
    if isinstance(node, dict):
        return sum(total(v) for v in node.values())
    return sum(total(v) for v in node)


def transform(node):
    checkpoint()
    if isinstance(node, dict):
        return {k.upper(): transform(v) for k, v in node.items()}
    if isinstance(node, list):
        return [transform(v) for v in reversed(node)]
    if isinstance(node, str):
        return node[::-1]
    return node


def depth(node):
    checkpoint()
    if isinstance(node, dict):
        return 1 + max([depth(v) for v in node.values()], default=0)
    if isinstance(node, list):
        return 1 + max((depth(v) for v in node), default=0)
    return 0


print("total", total(DOC))
t = transform(DOC)
print("transformed", t)
print("depth", depth(DOC), depth(t))
RESULT = (sorted(counts.items()), leaves, total(DOC), t)
