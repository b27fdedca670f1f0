"""`swarm place`: gather the nodes' access reports, plan with a policy, carry out the moves.

The moves are made by a program run on the cluster (`RELOCATE`), with `Ref.relocate` - the same
path a user's relocation takes, so a move loses nothing: accesses to a Ref while it moves wait
on its old node and then follow its forward, and programs that arrive there later are sent on
(docs/nodes.md). That program's own accesses are not counted in the statistics.
"""

from __future__ import annotations

import os
import tempfile

from cluster.graph import access_graph
from cluster.placer import Plan, plan
from cluster.policies import clustered

RELOCATE = """\
from swarm.refs import Ref

MOVES = {moves!r}
for ref_id, src, dst in MOVES:   # grouped by source node: one hop per source
    Ref._handle(ref_id, src).relocate(dst)
RESULT = len(MOVES)
"""


def place(cluster, dry_run: bool = False, policy=clustered, balance: float = 1.1,
          plot: str | None = None, min_gain: float = 0.0) -> Plan:
    """Plan the cluster's placement with `policy` and, unless `dry_run` or the plan is not
    worth it (`Plan.worth(min_gain)`), move the Refs. With `plot`, draw the access graph
    before and after into that PNG file (its title says whether the moves were made)."""
    g = access_graph(cluster.stats())
    live = [n for n in cluster.config.names if n not in cluster.config.fenced]  # (not to a
    result = plan(g, live, policy=policy, balance=balance)  # node gone or removed)
    moving = not dry_run and result.worth(min_gain)
    if moving:
        moves = [(m.ref, m.src, m.dst) for m in result.moves]
        with tempfile.TemporaryDirectory(prefix="swarm-place-") as tmp:
            out = cluster.run_file(os.path.join(tmp, "swarm_place.py"),
                                   source=RELOCATE.format(moves=moves), record_access=False)
        if out.error:
            raise RuntimeError(f"the moves failed: {out.error}\n{out.traceback}")
    if plot:  # after the moves, so that its title can say they were made
        from cluster.plot import draw

        draw(g, result, plot, applied=moving)
    return result
