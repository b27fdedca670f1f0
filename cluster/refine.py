"""Local search on a k-way partition of an access graph: fill no part past the allowance, and
lower the cut.

The state is ``part_of`` (Ref -> part index) and ``load`` (bytes per part), changed in place;
``cap`` is the allowance in bytes. No step puts a part over ``cap``.

- `repair`: move Refs out of parts over the allowance, the move that raises the cut least first;
- `refine`: greedy passes (single moves that lower the cut, else swaps of two Refs between two
  parts) until none gains, then a Fiduccia–Mattheyses pass; again while that pass gains.

Discussion: greedy moves stop at the first local minimum. The FM pass moves each Ref at most
once, always the best move that fits even if it raises the cut, and then keeps only the prefix
of moves with the lowest cut: a few uphill moves can lead to a deeper valley. Swaps matter when
parts are full (uniform sizes, balance 1.0), where no single move fits; a swap whose total gain
is positive always has one side whose own move gains, so trying swaps only from those Refs
misses none.
"""

from __future__ import annotations

import heapq

import networkx as nx

PATIENCE = 50  # FM moves without a new best cut before a pass gives up


def repair(g: nx.Graph, part_of: dict[str, int], load: list[int], cap: float) -> None:
    """Move Refs out of parts over `cap` while some move fits (the least cut increase first,
    then the biggest Ref); stops early only if the sizes cannot be shared out."""
    size = g.nodes(data="size")
    k = len(load)
    while True:
        over = {p for p in range(k) if load[p] > cap}
        best, best_key = None, None
        for ref in sorted(r for r, p in part_of.items() if p in over):
            tie = _ties(g, ref, part_of, k)
            for q in range(k):
                if q not in over and load[q] + size[ref] <= cap:
                    key = (tie[q] - tie[part_of[ref]], size[ref])
                    if best_key is None or key > best_key:
                        best, best_key = (ref, q), key
        if best is None:
            return
        _move(best[0], best[1], part_of, load, size[best[0]])


def refine(g: nx.Graph, part_of: dict[str, int], load: list[int], cap: float) -> None:
    """Lower the cut by greedy moves and swaps, and FM passes, until neither gains."""
    eps = 1e-9 * (1.0 + g.size(weight="weight"))
    while True:
        while _greedy_pass(g, part_of, load, cap, eps):
            pass
        if not _fm_pass(g, part_of, load, cap, eps):
            return


def _ties(g: nx.Graph, ref: str, part_of: dict[str, int], k: int) -> list[float]:
    """Edge weight from `ref` to each part (its own included)."""
    tie = [0.0] * k
    for other, data in g[ref].items():
        tie[part_of[other]] += data["weight"]
    return tie


def _move(ref: str, dst: int, part_of: dict[str, int], load: list[int], size: int) -> None:
    load[part_of[ref]] -= size
    load[dst] += size
    part_of[ref] = dst


def _greedy_pass(g: nx.Graph, part_of: dict[str, int], load: list[int], cap: float,
                 eps: float) -> bool:
    """One sweep over the Refs in id order: each takes its best fitting move that lowers the
    cut, or else its best swap; True if anything moved."""
    size = g.nodes(data="size")
    k = len(load)
    members: list[set[str]] = [set() for _ in range(k)]
    for ref, p in part_of.items():
        members[p].add(ref)

    def move(ref: str, q: int) -> None:
        members[part_of[ref]].discard(ref)
        members[q].add(ref)
        _move(ref, q, part_of, load, size[ref])

    moved = False
    for ref in sorted(part_of):
        own = part_of[ref]
        tie = _ties(g, ref, part_of, k)
        gains = {q: tie[q] - tie[own] for q in range(k) if q != own and tie[q] - tie[own] > eps}
        fits = [q for q in gains if load[q] + size[ref] <= cap]
        if fits:
            move(ref, max(fits, key=lambda q: (gains[q], -q)))
            moved = True
            continue
        for q in sorted(gains, key=lambda q: (-gains[q], q)):
            other = _swap_partner(g, ref, q, gains[q], members[q], part_of, load, cap, eps)
            if other is not None:
                move(ref, q)
                move(other, own)
                moved = True
                break
    return moved


def _swap_partner(g: nx.Graph, ref: str, q: int, gain: float, candidates: set[str],
                  part_of: dict[str, int], load: list[int], cap: float,
                  eps: float) -> str | None:
    """The Ref of part `q` whose swap with `ref` (which would gain `gain` moving to `q`) lowers
    the cut most while both parts stay within `cap`; None if no swap gains."""
    size = g.nodes(data="size")
    own = part_of[ref]
    best, best_gain = None, eps
    for other in sorted(candidates):
        delta = size[other] - size[ref]
        if load[own] + delta > cap or load[q] - delta > cap:
            continue
        tie = _ties(g, other, part_of, len(load))
        # Each single move counted the edge ref-other as becoming internal; after the swap
        # it is still cut, so take it back twice.
        w = g[ref][other]["weight"] if g.has_edge(ref, other) else 0.0
        total = gain + tie[own] - tie[q] - 2 * w
        if total > best_gain:
            best, best_gain = other, total
    return best


def _fm_pass(g: nx.Graph, part_of: dict[str, int], load: list[int], cap: float,
             eps: float) -> bool:
    """One Fiduccia–Mattheyses pass (see the module docstring); True if it lowered the cut."""
    size = g.nodes(data="size")
    k = len(load)
    tie = {ref: _ties(g, ref, part_of, k) for ref in part_of}
    stamp = dict.fromkeys(part_of, 0)  # bumped when a Ref's gains change: older entries are stale
    heap: list[tuple[float, str, int, int]] = []
    blocked: list[list[tuple[float, str, int, int]]] = [[] for _ in range(k)]

    def push(ref: str) -> None:
        own = part_of[ref]
        for q in range(k):
            if q != own:
                heapq.heappush(heap, (tie[ref][own] - tie[ref][q], ref, q, stamp[ref]))

    for ref in sorted(part_of):
        push(ref)
    locked: set[str] = set()
    history: list[tuple[str, int]] = []
    gained = best = 0.0
    best_len = 0
    while heap and len(history) - best_len < PATIENCE:
        entry = heapq.heappop(heap)
        loss, ref, q, st = entry
        if ref in locked or st != stamp[ref]:
            continue
        if load[q] + size[ref] > cap:
            blocked[q].append(entry)  # may fit once something leaves q
            continue
        src = part_of[ref]
        _move(ref, q, part_of, load, size[ref])
        locked.add(ref)
        history.append((ref, src))
        gained -= loss
        if gained > best + eps:
            best, best_len = gained, len(history)
        for other, data in g[ref].items():
            tie[other][src] -= data["weight"]
            tie[other][q] += data["weight"]
            if other not in locked:
                stamp[other] += 1
                push(other)
        for waiting in blocked[src]:
            heapq.heappush(heap, waiting)
        blocked[src].clear()
    for ref, src in reversed(history[best_len:]):
        _move(ref, src, part_of, load, size[ref])
    return best_len > 0
