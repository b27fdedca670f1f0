"""The machine's part of membership: declaring a node gone for good (`swarm node gone NODE`;
the client's part is swarm/fencing.py: two phases, each written before it is answered,
"fenced"), a node whose store its mirror adopts (`swarm node remove NODE`: the same two
phases with an heir, swarm/adoption.py), and a node joining (`swarm node add`;
swarm/membership.py).

A fence with an heir: phase 1 refuses the node as any fence does, but what is meant for it is
held, not failed - hops stay in the outbox, questions are asked again (state.lost); then the
heir merges its copy of the node's store into its own (the shell's part, after this phase);
phase 2 routes the node's name to the heir (state.route): everything held goes there. Both
phases are written (the store's `heirs`), so a node restarting between them holds, as
before.
"""

from __future__ import annotations

from dataclasses import replace

from swarm.node.machine import events as ev
from swarm.node.machine import failover, mirror, questions
from swarm.node.machine.gcscan import IdFinder
from swarm.node.machine.instructions import TO_SELF, Log, Reply, Send
from swarm.wire.control import decode as stored_meta


def known(state, fenced, heirs: dict) -> None:
    """The fences written in the store: nodes declared gone, and removed nodes with their
    heirs ({node: (heir, routed)}) - at Booted, and before (the shell: a restore serves its
    peers' copies before the machine boots)."""
    state.fenced.update(fenced)
    for node, (heir, routed) in heirs.items():
        state.heirs[node] = heir
        if routed:
            state.routed.add(node)


def fence(state, e: ev.FenceRequested) -> None:
    """An operator declares e.node gone for good (see resend.py's Discussion). Phase 1:
    written, and from then on nothing from it is taken (the shell's gate refuses it too).
    Phase 2, once every live node has done phase 1 (the operator's command waits for
    that): hops to it are given up (fail_waiting_for). Each phase is answered
    ("fenced") once written."""
    node, heir = e.node, e.heir
    if node == state.name or node not in state.names or \
            (heir is not None and (heir not in state.names or heir == node)):
        state.out.append(Log("warning", f"fence of {node!r} from {e.client} ignored"))
        return
    if heir is not None and state.heirs.get(node, heir) != heir:
        state.out.append(Log("warning", f"fence of {node} with heir {heir} from {e.client} "
                                       f"ignored: its heir is {state.heirs[node]}"))
        return
    if heir is None and node in state.heirs:  # (`swarm node gone` of a node being removed)
        state.out.append(Log("warning", f"fence of {node} without its heir from {e.client} "
                                       f"ignored: its removal is under way"))
        return
    if node not in state.fenced or (e.phase == 2 and heir is not None and
                                    node not in state.routed):
        failover.members_changed(state)  # (not when asked again: nothing changes)
    if e.phase == 1:
        if heir is not None:  # (written each time: its row may be missing after a start
            state.heirs[node] = heir  # that read the heir in the cluster file)
            state.held_at.setdefault(node, state.now)
            state.ledger.next.heirs[node] = (heir, node in state.routed)
        if node not in state.fenced:
            state.fenced.add(node)
            state.ledger.next.fences.append(node)
            state.out.append(Log("warning", f"node {node} is declared gone: refused "
                                           f"from now on" + (f"; {heir} takes its store"
                                                             if heir else "")))
            mirror.fenced(state)  # (it may have been this node's mirror)
    elif heir is not None:  # (its heir has its store now: what waited for it goes there)
        if node not in state.heirs:  # (this node joined after phase 1: it is phase 1 too)
            state.heirs[node] = heir
            state.held_at.setdefault(node, state.now)
            if node not in state.fenced:
                state.fenced.add(node)
                state.ledger.next.fences.append(node)
                mirror.fenced(state)
        if node not in state.routed:
            state.routed.add(node)
            state.ledger.next.heirs[node] = (state.heirs[node], True)
            # questions asked of it since it was held were never sent (reroute): to the heir
            # now - also those that are not asked again by themselves
            since = state.held_at.get(node, float("inf"))
            for q in state.asks.values():
                if q.node == node and q.asked_at >= since:
                    q.sent_at = state.now
                    state._send(q.send)
            state.out.append(Log("warning", f"node {node}'s Refs and programs are "
                                           f"{state.heirs[node]}'s from now on"))
    else:
        fail_waiting_for(state, node)
    state._send(Reply(e.client, "fenced", {"node": node, "phase": e.phase}), hold=True)
    state.ledger.want()  # (a phase asked again writes nothing new: the reply still waits
    state._write_now()  # for a write, which must come - else it holds every later message)


def reroute(state, out: list) -> None:
    """Messages to a node being removed (NodeState.handle, last): while its heir does not
    serve it yet, none is sent - hops stay in the outbox, questions are kept, and both go to
    the heir once it does (the node, stopping, takes nothing more: what it answered before
    is taken, shell.admit). Then they go to the heir. One that comes to this node itself -
    the heir, sending what the node's store held (its outbox, acks and forgets owed to it),
    or what the node had not yet delivered to this one (a hop to the heir in its outbox when
    it died: named for this node, not routed) - is done here: a hop is taken, as a hop to this
    node is, once; acks and forgets are applied. (The shell would drop it: a node's own
    network takes no hop from itself, shell._loop_back.)"""
    if any(type(i) is Send and state.holding(i.node) for i in out):
        out[:] = [i for i in out if type(i) is not Send or not state.holding(i.node)]
    itself = []
    for i, instruction in enumerate(out):
        if type(instruction) is Send and (instruction.node in state.routed or (
                instruction.node == state.name and instruction.kind not in TO_SELF)):
            node = state.route(instruction.node)
            if node == state.name:
                itself.append(instruction)
            else:
                out[i] = replace(instruction, node=node)
    if not itself:
        return
    out[:] = [i for i in out if all(i is not x for x in itself)]
    ledger = state.ledger
    for send in itself:
        fields = send.fields
        if send.kind == "hop":
            meta_bytes, data = send.blobs
            meta = stored_meta(meta_bytes)
            if send.node == state.name:  # (the node's hop to this one, sent again from here)
                state.count("hops_to_itself")
            ledger.acknowledged([meta["hop_id"]])
            if not ledger.seen(meta["hop_id"]):
                ledger.take(None, meta["hop_id"], meta["program"], meta_bytes, data)
                state._resume(meta, meta["hop_id"], data, bool(fields.get("again")),
                              state.now)
        elif send.kind == "ack":
            state._acknowledged(fields["hop_ids"])
        else:  # (a question to itself: asked of the node before the adoption, and lost
            state.count("sent_to_itself")  # with the restart that followed it)
        if fields.get("acks"):
            state._acknowledged(fields["acks"])
        if fields.get("forget"):
            ledger.forget(fields["forget"], state.now + state.forget_after)


def fail_waiting_for(state, node: str) -> None:
    """Phase 2: hops waiting for the gone node can never be taken - off the outbox. Their
    programs are not reported failed here: the gone node may have run them, in part or
    to the end, or sent them on to a live node before it went. Each stays known as
    handed to the gone node, so that its client, looking for it (programs?), finds it on
    no live node and tells its user that its outcome is unknown (swarm/client.py).
    Questions asked of the gone node end with NodeGone in the programs that asked."""
    present = state.present
    gone = [(hop_id, entry[4]) for hop_id, entry in state.ledger.outbox.items()
            if entry[0] == node]
    for hop_id, program in gone:
        state.ledger.acknowledged([hop_id])
        where = present.get(program)
        if where is not None and where[3] == hop_id:
            present.hand(program, node, state.now)
    if gone:
        state.out.append(Log("warning", f"{len(gone)} hops to {node}, declared gone, will "
                                       f"not be sent again"))
    questions.node_gone(state, node)


def join_problem(names: list[str], node: str, members: list[str] | None) -> str:
    """Why a node knowing `names`, in order, cannot take `node` as a member now ("" if it
    can): `members` is the cluster file's order the operator's command read. Every node must
    hold the members in one order (mirrors are the next node in it), so a node takes only
    the next one - one that missed an earlier join takes no later one before it."""
    if members is None:
        return ""
    if node in names:  # (told again: the same order as far as both go)
        ok = members[:len(names)] == names or names[:len(members)] == members
    else:
        ok = members[:len(names)] == names and members[len(names):len(names) + 1] == [node]
    if ok:
        return ""
    missing = [n for n in members[:members.index(node) if node in members else None]
               if n not in names]
    return (f"it knows {', '.join(names)}, and the cluster file lists "
            f"{', '.join(members)}" + (f": `swarm node add {missing[0]}` again first"
                                       if missing else ": not the same order"))


def join(state, e: ev.MemberJoined) -> None:
    """An operator adds e.node (`swarm node add`): a member from now on, last in cluster
    order. Nothing is written: the cluster file lists it already (a node started again
    reads it there). What changes here: this node's mirror, if the new node comes after it
    in order (its copy is made there from a snapshot; a write waiting for the old mirror
    waits for the new one), and the collections under way, which must not go on without
    it (gc.py, `end`). Answered "joined"."""
    node = e.node
    if node not in state.names:
        failover.members_changed(state)
        state.names.append(node)
        state.gc.finder = IdFinder(state.names)  # (its Refs' ids: collectable too)
        state.out.append(Log("info", f"node {node} joined the cluster"))
        mirror.fenced(state)  # (the node before it keeps its copy there now)
    state._send(Reply(e.client, "joined", {"node": node}))


def handlers(state) -> dict:
    """The events of this module, for NodeState's table."""
    return {ev.FenceRequested: lambda e: fence(state, e),
            ev.MemberJoined: lambda e: join(state, e)}
