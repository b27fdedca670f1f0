"""Failover without an operator (`failover = S` in the cluster file; docs/nodes.md,
"Failover"): a node silent for S seconds is removed by its mirror - the heir, which holds a
copy of every write the node counted - as `swarm node remove NODE --force` removes it
(swarm/adoption.py), and its Refs and programs are served by the heir from then on.

Three rules make this lose no acknowledged write, whatever was silent - the node (dead,
paused) or only the link between it and its mirror (the node alive, cut off):

1. **The heir asks first.** The mirror of a node it has not heard from for S / 2 seconds
   (any message: a node sends its mirror a probe every S / 4) asks every other live node to
   vote (`out?`), and decides once it has not heard from it for S seconds, every other live
   node has answered (two nodes silent at once are left to an operator) and the yes votes
   and itself are a majority of the live nodes (`quorum`, the node counted). A voter says
   yes unless it heard from the node within S / 2 seconds (one that has not asks the node
   `alive?` and waits min(S / 2, PROBE_WAIT) for an answer), or the node said `bye` (a
   clean stop: a restart, the heir's own restart to merge), or it let the node go on alone
   (rule 3), or it voted for another failover not done yet (one at a time). Saying yes, it
   promises to refuse the node's `alone?` until the node is fenced (PROMISE_SECONDS at
   most). Then the heir runs the removal (instruction TakeOver), again every AGAIN_SECONDS
   while it stays half-way (a node it must tell was down). A node not heard since this one
   started is never taken over: it is not up yet, or was stopped before.
2. **A node counts a write only once it is on its mirror's copy** (machine/mirror.py) - so
   everything the node acknowledged is in what the heir merges - or, when its mirror does
   not answer, once enough other nodes let it go on alone:
3. **Going on alone needs leave.** A node whose mirror did not answer a write in time asks
   every live node but its mirror (`alone?`); it counts its writes on its disk alone only
   while `needed_alone` of them said yes - so many that every majority of voters holds one
   of them (n live nodes, a majority q: n - q of the n - 2 others than the node and its
   mirror; counted again when members change). A node that said yes refuses to vote the
   node out until the node says its copy is whole again (`whole`, sent until answered).
   So a removal and a node going on alone exclude each other: every majority that could
   remove it holds a node that let it go, and says no.

Members that change (a join, a removal, a fence) change mirrors: for SETTLE * S seconds after
a node learns of it, it neither votes yes, nor asks or gives leave, nor starts a failover,
and votes count only between nodes holding the same members (`view`).

What a false suspicion costs: a node that answers no one for S seconds (dead, paused, its
loop stalled) is removed; it is refused from then on and may be added again as a new node.
Choose S above the longest stall a node may take. The voters' promises and leaves live in
memory: a voter that restarts between its vote and the fence, or forgets a leave it gave
and then votes, is a second failure at once (docs/nodes.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from swarm.node.machine.instructions import Log, Send, TakeOver

ASK_SECONDS = 0.5  # how often votes and leave are asked again while unanswered
PROMISE_SECONDS = 60.0  # a yes vote refuses the node's `alone?` this long
AGAIN_SECONDS = 30.0  # a removal started that did not fence the node is started again after
SETTLE = 5  # failovers (this many times `after`) after this node learned of a change of members
PROBE_WAIT = 1.0  # a voter waits this long (at most `after`) for an answer to `alive?`
STUCK_SECONDS = 5.0  # a failover still waiting this long past `after` says why in the log


def quorum(n: int) -> int:
    return n // 2 + 1


@dataclass(slots=True)
class Failover:
    """What this node knows for failover. `after` 0: off (by hand)."""
    after: float = 0.0
    heard: dict = field(default_factory=dict)  # peer -> when a message from it came (shell)
    votes: dict = field(default_factory=dict)  # node -> {voter: yes}: a vote under way here
    asked_at: dict = field(default_factory=dict)  # node -> when its votes were last asked
    started: dict = field(default_factory=dict)  # node -> when its removal was started here
    refused: set = field(default_factory=set)  # nodes a voter would not let go (said once)
    promised: dict = field(default_factory=dict)  # node -> when this node voted it out
    probed: dict = field(default_factory=dict)  # node -> when this node asked it `alive?`
    let_alone: set = field(default_factory=set)  # nodes this node let go on alone
    leave: set = field(default_factory=set)  # the nodes that let this one go on alone
    leave_asked_at: float = -1.0  # (-1: not asking)
    telling: set = field(default_factory=set)  # those not yet told its copy is whole again
    told_at: float = 0.0
    changed_at: float = 0.0  # when this node last learned of a join or a fence
    resting: dict = field(default_factory=dict)  # node -> when it said it stops cleanly
    answers: dict = field(default_factory=dict)  # node -> {voter: (why, view)}: each last one
    stuck: dict = field(default_factory=dict)  # node -> why a failover waits, as logged
    voting_since: dict = field(default_factory=dict)  # node -> when votes were first asked


def live(state) -> list[str]:
    return [n for n in state.names if n not in state.fenced]


def on(state) -> bool:
    return state.failover.after > 0 and state.replicas >= 2 and len(live(state)) >= 3


def needed_alone(state) -> int:
    n = len(live(state))
    return n - quorum(n)


def settling(state, now: float) -> bool:
    """Members changed lately (a join, a fence): nodes may hold other member lists, and so
    other mirrors - no vote, no leave asked or given, no failover for SETTLE * after
    seconds."""
    f = state.failover
    return f.changed_at > 0 and now - f.changed_at < SETTLE * f.after


def members_changed(state) -> None:
    state.failover.changed_at = state.now


def view(state) -> str:
    """The members as this node knows them, in short (votes count only between equal ones:
    a node starts with its store's fences and the cluster file's - adopt.fenced; one that
    joined after a removal knew only the first, and no vote of its counted)."""
    return f"{len(state.names)}/{len(state.fenced)}"


def silent_for(state, node: str, now: float) -> float:
    """Seconds since `node` was last heard; 0 for one not heard since this node started (a
    node that is not up yet, or was stopped before: nothing to take over) or one that said
    it stops cleanly (`bye`: a restart, `swarm down`, the heir's own restart to merge) -
    until it is heard again."""
    f = state.failover
    heard = f.heard.get(node)
    if heard is None or heard < state.booted_at or f.resting.get(node, -1.0) >= heard:
        return 0.0
    return now - max(heard, f.changed_at)


# ---- the node whose mirror does not answer ------------------------------------------------
def may_go_alone(state, now: float) -> bool:
    """Asked by mirror.tick when a write waited for the mirror too long: True once enough
    nodes let this one go on alone; until then `alone?` goes out every ASK_SECONDS."""
    f = state.failover
    if not on(state) or len(f.leave) >= needed_alone(state):
        return True
    if settling(state, now):  # (leave from a node another may not know of yet: waits)
        return False
    if now - f.leave_asked_at >= ASK_SECONDS:
        if f.leave_asked_at < 0:
            state.out.append(Log("warning", f"mirror {state.mirror.node} does not answer: "
                                            f"asking the other nodes to go on alone "
                                            f"(failover is on: docs/nodes.md)"))
        f.leave_asked_at = now
        for n in live(state):
            if n not in (state.name, state.mirror.node) and n not in f.leave:
                state.out.append(Send(n, "failover", {"step": "alone?",
                                                       "node": state.name}))
    return False


def tell_held(state, sender: str, hop_id: str) -> None:
    """A hop sent again that this node took but has not acknowledged: when its mirror does
    not answer and it waits for leave to go on alone, the sender is told so (`refused`, the
    hop kept in its outbox), and its client names the cause - not `swarm node gone` of a
    node that is alive (trial of 2026-12-07, finding 6)."""
    link, f = state.mirror, state.failover
    if link.waiting is None or link.held_since is None:
        return
    state.out.append(Send(sender, "refused", {"hop_ids": [hop_id], "reason": (
            f"{state.name} took it, but its writes wait for its mirror {link.node}, which "
            f"does not answer: {state.name} goes on once enough other nodes let it go on "
            f"alone" + (" (members changed lately: not before they settle)"
                        if settling(state, state.now) else "") +
            f", once {link.node} is failed over (failover = {f.after:g} s), or once "
            f"{link.node} answers again")}))


def may_count_alone(state) -> bool:
    """mirror.committed, a node on its own: members may have changed since it got its leave
    (a join makes more voters): enough leave still, else its writes wait again."""
    f = state.failover
    if not on(state) or len(f.leave) >= needed_alone(state):
        return True
    may_go_alone(state, state.now)  # (asks the others, the new ones too)
    return False


def bye(state) -> None:
    """The node stops cleanly (Stopping): its peers do not take its silence for a death."""
    if on(state):
        for n in live(state):
            if n != state.name:
                state.out.append(Send(n, "failover", {"step": "bye", "node": state.name}))


def whole_again(state) -> None:
    """mirror.answered: the copy holds every write again - the nodes that let this one go
    on alone may vote it out again."""
    f = state.failover
    f.telling |= f.leave
    f.leave = set()
    f.leave_asked_at = -1.0
    tell_whole(state, state.now)


def tell_whole(state, now: float) -> None:
    """`whole` to each node that let this one go on alone, every ASK_SECONDS until it
    answers (a lost one would keep it from voting this node out: no failover then)."""
    f = state.failover
    if f.telling and now - f.told_at >= ASK_SECONDS:
        f.told_at = now
        for n in sorted(f.telling):
            state.out.append(Send(n, "failover", {"step": "whole", "node": state.name}))


# ---- messages -----------------------------------------------------------------------------
def received(state, sender: str, fields: dict) -> None:
    step, node, f, now = fields["step"], fields["node"], state.failover, state.now
    if step == "alone?":  # (sender == node: the gate checked who sent it)
        promised = f.promised.get(node)
        ok = node == sender and (promised is None or now - promised > PROMISE_SECONDS) and \
            not settling(state, now)
        if ok:
            f.let_alone.add(node)
            f.promised.pop(node, None)
        state.out.append(Send(sender, "failover", {"step": "alone", "node": node, "ok": ok}))
    elif step == "alone":
        if fields.get("ok") and node == state.name:  # (one that came late, once the copy
            (f.leave if f.leave_asked_at >= 0 else f.telling).add(sender)  # was whole
            # again: told so, else it would refuse to vote this node out for ever)
        elif not fields.get("ok"):  # (also what `whole` is answered with)
            f.telling.discard(sender)
    elif step == "whole":
        if node == sender:
            f.let_alone.discard(node)
            state.out.append(Send(sender, "failover", {"step": "alone", "node": node,
                                                       "ok": False}))
    elif step == "bye":  # (a clean stop: not a death - its silence is not counted)
        if node == sender:
            f.resting[node] = f.heard.get(node, now)
            f.votes.pop(node, None)
    elif step == "alive?":
        state.out.append(Send(sender, "failover", {"step": "alive", "node": state.name}))
    elif step == "alive":
        pass  # (heard: the shell noted when)
    elif step == "out?":
        heard = f.heard.get(node, -1.0)
        why = "alone" if node in f.let_alone else \
            "hears it" if now - heard < f.after / 2 else \
            "stopped cleanly" if f.resting.get(node, -2.0) >= heard else \
            "members changing" if settling(state, now) or fields.get("view") != view(state) \
            else "another failover" if any(n != node for n in f.promised) \
            else _asked(state, node, now)
        if not why and node != state.name:
            f.promised[node] = now
        state.out.append(Send(sender, "failover", {"step": "out", "node": node,
                                                   "ok": not why and node != state.name,
                                                   "why": why, "view": view(state)}))
    elif step == "out":
        f.answers.setdefault(node, {})[sender] = (fields.get("why", ""), fields.get("view"))
        if node in f.votes and fields.get("view") == view(state):
            f.votes[node][sender] = bool(fields.get("ok"))  # (every other live node must
            # answer: two nodes silent at once are left to an operator - one at a time)
            if fields.get("why") == "alone" and node not in f.refused:
                f.refused.add(node)
                state.out.append(Log("error", (
                    f"{node} is silent but {sender} let it go on alone while its mirror (this "
                    f"node) did not answer: its copy here lacks writes it counted, so it is not "
                    f"failed over. Start {node} again, or `swarm node remove {node} --force` "
                    f"to take the copy as it is (those writes lost)")))


def _asked(state, node: str, now: float) -> str:
    """A voter that has not heard from the node lately asks it (`alive?`) before it says
    yes: a node it seldom talks to is not silent for that ("" once PROBE_WAIT passed with
    no answer)."""
    f = state.failover
    asked = f.probed.get(node)
    if asked is None or f.heard.get(node, -1.0) >= asked or now - asked > PROMISE_SECONDS:
        # (never asked, or it answered since - alive then, silent again now: asked again;
        # before, an old answer kept this node saying no for a minute: a 200 MB write's
        # false suspicion, then a real death, took 50 s to fail over)
        f.probed[node] = now
        state.out.append(Send(node, "failover", {"step": "alive?", "node": node}))
        return "asking it"
    if now - asked < min(f.after / 2, PROBE_WAIT):
        return "asking it"
    return ""


# ---- the heir: watching the nodes it keeps copies of ---------------------------------------
def tick(state, now: float) -> None:
    if not on(state):
        return
    f = state.failover
    tell_whole(state, now)
    for node, at in list(f.promised.items()):  # (one failover at a time: a promise holds
        if node in state.fenced or now - at > PROMISE_SECONDS:  # until the node is fenced)
            del f.promised[node]
    for node, heir in state.heirs.items():  # (a removal this node started, stopped half-way:
        if heir == state.name and node not in state.routed and node in f.started and \
                now - f.started[node] >= AGAIN_SECONDS:  # a node it waits for was down)
            f.started[node] = now
            state.out.append(TakeOver(node, state.name))
    for node in live(state):
        if node == state.name or node in state.heirs or \
                state.mirror_for(node) != state.name:
            continue
        silent = silent_for(state, node, now)
        if silent < f.after / 2:  # (votes are asked from half the time on: the voters ask
            f.votes.pop(node, None)  # the node too meanwhile; decided at the full time)
            f.refused.discard(node)
            f.started.pop(node, None)  # (a removal started aborts when it answers)
            f.answers.pop(node, None)
            f.stuck.pop(node, None)
            f.voting_since.pop(node, None)
            continue
        votes = f.votes.get(node, {})
        others = [n for n in live(state) if n not in (node, state.name)]
        if silent >= f.after + STUCK_SECONDS:
            say_stuck(state, node, silent, votes, others, now)
        if node in f.refused or settling(state, now) or any(n != node for n in f.promised):
            continue
        if now - f.started.get(node, -AGAIN_SECONDS) < AGAIN_SECONDS:
            continue
        votes = f.votes.setdefault(node, {})
        if silent >= f.after and all(n in votes for n in others) and \
                sum(votes.values()) + 1 >= quorum(len(live(state))):
            f.started[node] = now
            f.votes.pop(node)
            state.out.append(Log("warning", f"{node} has been silent for "
                                            f"{silent_for(state, node, now):.1f} s and a "
                                            f"majority agrees: taking its store (failover; "
                                            f"the command's output: failover-{node}.log in "
                                            f"this node's directory)"))
            state.out.append(TakeOver(node, state.name))
            continue
        if now - f.asked_at.get(node, -ASK_SECONDS) >= ASK_SECONDS:
            f.asked_at[node] = now
            f.voting_since.setdefault(node, now)
            for n in others:
                if not votes.get(n):
                    state.out.append(Send(n, "failover", {"step": "out?", "node": node,
                                                           "view": view(state)}))


def stuck_reason(state, node: str, votes: dict, others: list[str],
                 now: float) -> tuple[str, str]:
    """Why the failover of `node`, silent past `after`, does not go on: (a key, the text);
    ("", "") if it goes on, or a voter is only asking the node whether it is alive."""
    f = state.failover
    if node in f.refused or now - f.started.get(node, -AGAIN_SECONDS) < AGAIN_SECONDS:
        return "", ""  # (logged as an error; its removal runs: failover-NODE.log)
    if settling(state, now):
        return "settling", (f"the members changed {now - f.changed_at:.0f} s ago (a join or "
                            f"a fence): no failover until {SETTLE} x failover = "
                            f"{SETTLE * f.after:g} s after")
    other = sorted(n for n in f.promised if n != node)
    if other:
        return f"promised {other[0]}", (f"this node voted for the failover of {other[0]}, "
                                        f"not done yet (one at a time)")
    if now - f.voting_since.get(node, now) < STUCK_SECONDS:
        return "", ""  # (the vote has not had its time yet)
    answers, mine = f.answers.get(node, {}), view(state)
    unequal = [f"{n} holds {answers[n][1]}" for n in others
               if n in answers and answers[n][1] != mine]
    if unequal:
        return f"views {unequal}", (
            f"votes count only between nodes holding the same members (nodes/declared "
            f"gone): this node holds {mine}, {', '.join(unequal)} - is the cluster file the "
            f"same everywhere? (a node reads it at its start)")
    silent = [n for n in others if n not in votes]
    if silent:
        return f"silent {silent}", (
            f"{', '.join(silent)} did not answer the vote (down too? two nodes silent at "
            f"once are left to an operator: `swarm node remove {node} --force`)")
    no = sorted((n, answers.get(n, ("?",))[0] or "no") for n in others if not votes[n])
    if not no or any(why == "asking it" for _, why in no):
        return "", ""  # (a voter asks the node `alive?`: the vote goes on)
    return f"no {no}", ", ".join(f"{n} said no ({why})" for n, why in no)


def say_stuck(state, node: str, silent: float, votes: dict, others: list[str],
              now: float) -> None:
    """Once per reason while `node` stays silent: why its failover does not go on."""
    key, why = stuck_reason(state, node, votes, others, now)
    said = state.failover.stuck.setdefault(node, set())
    if key and key not in said:
        said.add(key)
        state.out.append(Log("warning", f"{node} has been silent for {silent:.1f} s but is "
                                        f"not failed over: {why}"))


def due(state) -> float | None:
    return state.now + ASK_SECONDS if on(state) else None
