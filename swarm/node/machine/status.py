"""A node's answer to `status?` (Cluster.status(), `swarm status`): what the machine counts.
The shell adds its own fields (sockets, refusals, the copies it keeps: shell._status)."""

from __future__ import annotations

from swarm.node.machine.ids import VALUE


def fields(state) -> dict:
    s = state.stats
    return {
        "node": state.name, "hops_in": s.get("hops_in", 0),
        "hops_out": s.get("hops_out", 0), "fetches": s.get("fetches", 0),
        # fetched values mapped from a store file of this host, and maps refused
        "mapped": s.get("mapped", 0), "maps_refused": s.get("maps_refused", 0),
        "read_ahead": s.get("read_ahead", 0),  # futures' results (futurewait.py)
        "fallbacks": s.get("fallbacks", 0), "resent": s.get("resent", 0),
        "saves": s.get("saves", 0),  # hops to itself before asking (traps.py)
        "sources_sent": s.get("sources_sent", 0),  # answers to source? (by hash)
        # large values of programs by hash (program._encode): named by hops sent from
        # here, sent to a node that asked, and held here (their count and bytes)
        "values": {"by_hash": s.get("values_by_hash", 0), "sent": s.get("values_sent", 0),
                   **_held(state)},
        # questions with an id answered here and kept, and copies answered again
        "answers_kept": len(state.answers.kept),
        "answered_again": s.get("answered_again", 0),
        # the copy of this node's store on its mirror (mirror.py): writes it held,
        # writes kept on this disk alone while it was down, snapshots sent
        "mirror": {**state.mirror.status(),
                   **{k: s.get(k, 0) for k in ("writes_mirrored", "writes_one_copy",
                                               "mirror_snapshots", "mirror_downs")}},
        # questions this node's programs wait on an answer to, and copies sent again
        "asking": len(state.asks) + len(state.source_asks),
        "asked_again": s.get("asked_again", 0),
        "awaiting": sum(map(len, state.data.awaiting.values())),  # futures waited on
        "unacked": len(state.ledger.outbox),
        "fallback_reasons": dict(state.fallbacks.counts),
        # atomic blocks that ended here: committed, and conflicts (each ran again); blocks
        # of other nodes prepared here and their locks, decisions of this node's blocks not
        # yet committed everywhere; prepared blocks resolved by asking their coordinator,
        # decisions sent again after a restart (txn.py, txnserve.resolve)
        "blocks": {"committed": s.get("txn_commits", 0),
                   "conflicts": s.get("txn_conflicts", 0),
                   "prepared": len(state.data.txns.prepared),
                   "locks": len(state.data.txns.locks),
                   "decided": len(state.data.txns.decided),
                   "resolved": s.get("txn_resolved", 0), "driven": s.get("txn_driven", 0)},
        # quick submissions (quick.py): started unwritten, taken since (why_*: for what),
        # ended unwritten
        "quick": {k[6:]: v for k, v in s.items() if k.startswith("quick_")},
        "write_failing": state.write_error if state.write_failed_since is not None
        else "",
        "cache": state.data.cache_status()}


def _held(state) -> dict:
    return {"held": sum(1 for entry in state.sources.values() if entry[0] == VALUE),
            "held_bytes": state.held_bytes}
