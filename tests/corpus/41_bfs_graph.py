from swarm import checkpoint
# BFS and DFS (recursive) over a dict graph, shortest paths with parent
# pointers, connected components; checkpoints in the traversal loops.

GRAPH = {
    "a": ["b", "c"],
    "b": ["d"],
    "c": ["d", "e"],
    "d": ["f"],
    "e": ["f", "g"],
    "f": [],
    "g": ["a"],
    "x": ["y"],
    "y": [],
}


def neighbors(node):
    checkpoint()
    return GRAPH.get(node, [])


def bfs(start):
    dist = {start: 0}
    parent = {start: None}
    queue = [start]
    head = 0
    while head < len(queue):
        node = queue[head]
        head += 1
        checkpoint()
        for nb in neighbors(node):
            if nb in dist:
                continue
            dist[nb] = dist[node] + 1
            parent[nb] = node
            queue.append(nb)
    return queue, dist, parent


def path(parent, target):
    out = []
    while target is not None:
        checkpoint()
        out.append(target)
        target = parent[target]
    return out[::-1]


def dfs(node, seen, order):
    seen.add(node)
    checkpoint()
    order.append(node)
    for nb in neighbors(node):
        if nb not in seen:
            dfs(nb, seen, order)
    checkpoint()
    return order


def components():
    undirected = {n: set() for n in GRAPH}
    for n, nbs in GRAPH.items():
        for m in nbs:
            undirected[n].add(m)
            undirected[m].add(n)
    seen = set()
    comps = []
    for n in sorted(undirected):
        if n in seen:
            continue
        stack = [n]
        comp = []
        while stack:
            cur = stack.pop()
            if cur in seen:
                continue
            seen.add(cur)
            checkpoint()
            comp.append(cur)
            stack.extend(sorted(undirected[cur]))
        comps.append(sorted(comp))
    return comps


order, dist, parent = bfs("a")
print("bfs order", order)
print("dist", dist)
checkpoint()
print("path a->g", path(parent, "g"))
print("path a->f", path(parent, "f"))
print("dfs", dfs("a", set(), []))
print("components", components())
RESULT = (order, dist, path(parent, "g"), components())
