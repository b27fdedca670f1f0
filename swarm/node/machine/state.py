"""NodeState: a node's logic as a pure state machine - events in, instructions out.

    instructions = state.handle(event)

Events (events.py) come from the network (after the gate), from programs (through the kernel
and traps) and from the clock; instructions (instructions.py) are carried out by the shell
(swarm/node/shell.py: sockets, SQLite, greenlets) or by the simulator (tests/sim/). Nothing
here touches a socket, a file, a greenlet or a clock: the same code runs in a node process and
in a simulated cluster of thousands of seeded runs, where every interleaving of messages,
crashes and full disks that the seed picks is checked against the protocol's invariants.

What the machine decides:
- hops: take each hop once (a resend, or the hop of a segment run again after a crash, is
  recognised by its id), write it before acknowledging it, resend what was not acknowledged,
  and hold every message while a Ref write it could show is not on disk (ledger.py);
- submissions: taken like hops, confirmed to their client once written;
- programs' output and results: kept with the ledger's write, sent to their client, sent
  again on collect?; a result leaves only once the end of its program is written;
- questions to other nodes (fetch, source?): sent, answered or timed out;
- the answers to clients' hello, ping, status?, stats?, stop.
"""

from __future__ import annotations

from collections import deque

from swarm.node.machine import (
    acks,
    answers,
    clients,
    failover,
    fences,
    gc,
    io,
    mirror,
    questions,
    quick,
    resend,
)
from swarm.node.machine import events as ev
from swarm.node.machine.access import AccessStats
from swarm.node.machine.history import FallbackReasons, HopHistory
from swarm.node.machine.ids import VALUE, submit_id
from swarm.node.machine.instructions import (
    Log,
    Persist,
    Relocate,
    Reply,
    Resume,
    Send,
    Start,
)
from swarm.node.machine.ledger import ACK_DELAY, FORGET_AFTER, WRITE_DELAY, HopLedger
from swarm.node.machine.pacing import Pacer
from swarm.node.machine.whereabouts import Whereabouts
from swarm.wire.control import decode as stored_meta
from swarm.wire.control import encode

RESEND_SECONDS = 1.0  # an unacknowledged hop is sent again after this
RETRY_WRITE_SECONDS = 1.0  # a write that failed is tried again after this
QUARANTINE_DEATHS = 2  # a program that was running when its node died this often is not run
SUBMIT_KEPT = 7 * 24 * 3600.0  # a submission stays in `done` (older ones are refused)
# what a program tells while its segment goes on (a task spawned: HopSent without `finished`):
# the unit of the ledger's write goes on too, to the segment's end (ledger.py)
_MID_SEGMENT = frozenset({ev.ProgramPrinted, ev.Asked, ev.SourceWanted, ev.InputWanted})


class NodeState:
    def __init__(self, name: str, names: list[str], data, sources: dict, *,
                 hop_timeout: float = 30.0, now: float = 0.0,
                 forget_after: float = FORGET_AFTER, replicas: int = 1,
                 failover_after: float = 0.0) -> None:
        self.name, self.names = name, list(names)
        self.replicas = replicas  # copies of the store: 2, a mirror (mirror.py)
        self.mirror = mirror.MirrorLink(None)  # (its node is known once Booted)
        self.failover = failover.Failover(failover_after)  # (failover.py: 0, by hand)
        self.hop_timeout = hop_timeout
        self.forget_after = forget_after  # (ledger.py: pruning `done`)
        self.data = data
        self.ledger = HopLedger(data)
        self.access = AccessStats(now)
        self.history = HopHistory(now)  # the last hops taken here (hops?: the dashboard)
        self.fallbacks = FallbackReasons()  # programs that did not migrate, by reason
        self.sources: dict[str, tuple] = sources  # hash -> (name, filename, source)
        # ... of which programs' large values (VALUE entries: program._encode): their bytes
        self.held_bytes = sum(len(v[2]) for v in sources.values() if v[0] == VALUE)
        self.asks: dict[str, questions.Question] = {}  # key -> a question (questions.py)
        self.source_asks: dict[str, tuple[str, questions.Question]] = {}  # key -> (hash, q)
        self.asking: dict[str, list[str]] = {}  # hash -> keys of programs waiting for it
        self.held: deque = deque()  # (write number, message) waiting for it (see _send)
        self.peer_load: dict[str, tuple[int, float]] = {}  # peer -> (load, when heard)
        self.present = Whereabouts()  # where programs are, as far as we know (its module)
        self.fenced: set[str] = set()
        self.leaving = False  # (swarm node remove: no new program taken: clients.py)
        self.adopting: dict[str, list] = {}  # node -> [since, quiet] (node/adopt.py)
        self.rerun: set[str] = set()  # segments run again (after a restart) not ended yet
        self.held_at: dict[str, float] = {}  # node -> when it was fenced with an heir here
        self.heirs: dict[str, str] = {}  # fenced node -> the node taking its store (fences.py)
        self.routed: set[str] = set()  # ... those whose heir has it: their name means the heir
        self.cancelled: set[str] = set()  # programs cancelled (their tasks too)
        self.deaths: dict[str, int] = {}  # program -> node deaths while it ran here
        self.partial: dict[str, list] = {}  # inbox hops with writes kept before their end
        self.quick: dict[str, tuple] = {}  # quick submissions running, not written (quick.py)
        self.answers = answers.Answers()  # questions answered by id, and ids asked (answers.py)
        self.stats: dict[str, int] = {}
        self.write_failed_since: float | None = None
        self.write_error = ""
        self.now = self.booted_at = now
        self.next_resend = now + RESEND_SECONDS
        self.pacer = Pacer()  # when large unacknowledged hops go again (pacing.py)
        self.next_retry = now
        self._ids = 0
        self._start_tag = format(int(now * 1000) & 0xFFFFFFFF, "x")  # (next_key)
        self.out: list = []
        self._handlers = {
            ev.Booted: self._booted, ev.SubmitReceived: self._submit,
            ev.HopReceived: self._hop,
            ev.HopSent: self._hop_sent, ev.ProgramPrinted: self._printed,
            ev.ProgramFinished: self._finished,
            ev.Tick: self._tick, ev.Committed: self._committed,
            ev.CommitFailed: self._commit_failed, ev.Stopping: self._stopping,
            **io.handlers(self), **questions.handlers(self), **fences.handlers(self),
            **clients.handlers(self), **acks.handlers(self),
            **answers.handlers(self), **mirror.handlers(self),
            ev.FailoverReceived: lambda e: failover.received(self, e.sender, e.fields),
            ev.HopsRequested: lambda e: self.out.append(  # (history.py: the dashboard's)
                Reply(e.client, "hops", self.history.answer(self.name, e.after))),
        }
        self.input_waits: dict[str, tuple[int, str]] = {}  # program -> (question, key): io.py
        self.gc = gc.Collector(self.names)  # garbage collection cycles under way (gc.py)
        self._handlers.update(gc.handlers(self))

    def handle(self, event) -> list:
        """Take one event; the instructions it leads to, in order."""
        self.out = out = []
        if self.gc.cycles:  # (a collection is under way: note the Refs going by)
            self.gc.saw(self, event)
        if self.quick:  # (quick.py: taken before what must be kept)
            quick.before(self, event)
        kind = type(event)
        self._handlers[kind](event)
        if kind not in _MID_SEGMENT and (kind is not ev.HopSent or event.finished):
            self.ledger.cut()  # a unit of a write ends here (ledger.py: a write that fails)
        if self.heirs:  # (what is meant for a node being removed waits, then goes to its heir)
            fences.reroute(self, out)
        return out

    def route(self, node: str) -> str:
        """The node that answers for `node`: its heir once that has its store (fences.py)."""
        while node in self.routed:
            node = self.heirs[node]
        return node

    def speaks_for(self, sender: str, node: str) -> bool:
        """Is `sender` `node`, or the heir taking its store (its programs run there since:
        the questions they ask again are theirs)? (fences.py)"""
        while sender != node and node in self.heirs:
            node = self.heirs[node]
        return sender == node

    def mirror_for(self, node: str) -> str | None:
        """The node that keeps `node`'s copy (mirror.mirror_of)."""
        return mirror.mirror_of(self.names, self.fenced, node, self.replicas)

    def holding(self, node: str) -> bool:
        """Is `node` being removed, its heir not serving it yet? (fences.py)"""
        return node in self.heirs and node not in self.routed

    def lost(self, node: str) -> bool:
        """Nothing sent to `node` can be taken any more: declared gone without an heir."""
        return node in self.fenced and node not in self.heirs

    def count(self, stat: str, n: int = 1) -> None:
        self.stats[stat] = self.stats.get(stat, 0) + n

    def next_key(self, prefix: str) -> str:
        """A key for a question or a wait: never one a run of this node before its last
        start made (a late answer to that one is not taken for an answer to this one)."""
        self._ids += 1
        return f"{prefix}-{self._ids}.{self._start_tag}"

    # ---- sending: nothing leaves while a write it could show is not on disk ---------------
    def _send(self, instruction, hold: bool = False) -> None:
        """Send now, or once the Ref writes made so far are on disk (in order: once one
        message waits, the later ones wait behind it). `hold`: wait for the next write
        whatever it holds (a result: see _finished; a program's run after a death: _run).

        Discussion: a message may show a Ref write - a hop carries a program that read it,
        an answer carries its value, output may print it. Sent before the write is on disk,
        a crash could undo the write after someone acted on it. Writes are numbered; a
        message waits for the unit that holds what was written before it (ledger.py: the
        one this event is cut into, or the last one cut with writes)."""
        ledger = self.ledger
        need = ledger.cuts + 1 if hold or self.data.dirty() else ledger.last_writes
        held = self.held
        if held and held[-1][0] > need:
            need = held[-1][0]
        if need > ledger.committed:
            held.append((need, instruction))
        else:
            self.out.append(instruction)

    def _send_counted(self, instruction) -> None:
        """Send once everything the store holds now counts as written: an answer the shell
        makes from the store (kept results, finished programs) must not show a write a lost
        disk could undo - one on disk here that waits for the mirror's copy (mirror.py).
        (What is not written yet is not in the store: a store that cannot write, a full
        disk, does not hold these answers back.)"""
        writing, held = self.ledger.writing, self.held
        if self.mirror.waiting is None or writing is None:
            self.out.append(instruction)
            return
        held.append((max(writing.number, held[-1][0] if held else 0), instruction))

    def _release(self) -> None:
        """Send the held messages whose write is on disk."""
        held, committed = self.held, self.ledger.committed
        while held and held[0][0] <= committed:
            self.out.append(held.popleft()[1])

    def _write_now(self) -> None:
        if self.ledger.writing is None and not self.ledger.failed:
            self.out.append(Persist(self.ledger.write()))
        else:  # the next write, once the one under way is done (or the failed one is)
            self.ledger.want()

    # ---- start ---------------------------------------------------------------------------------
    def _booted(self, e: ev.Booted) -> None:
        """Go on from what the store holds: hops taken and not finished run again (the ids
        they make are the same: their receivers take them once), the outbox is resent."""
        self.now = self.booted_at = e.now
        self.next_resend = e.now
        ledger = self.ledger
        ledger.restore(e.done, e.forgetting)
        fences.known(self, e.fenced, e.heirs)
        self.cancelled.update(e.cancelled)
        self.deaths.update(e.deaths)
        self.partial = dict(e.partial)
        self.answers.restore(e.answers)
        self.mirror = mirror.MirrorLink(
            mirror.mirror_of(self.names, self.fenced, self.name, self.replicas), e.mirror_seq,
            e.store_id)
        if e.mirror_down and self.mirror.node is not None:
            if failover.on(self):  # (its writes wait for the mirror, or for leave to go
                self.mirror.exposed += 1  # on alone: failover.py)
            else:
                mirror.went_down(self.mirror, e.now)
        if e.died_running:  # the process died while that program ran: count it
            dead = self.deaths[e.died_running] = self.deaths.get(e.died_running, 0) + 1
            ledger.next.deaths[e.died_running] = dead
            self.out.append(Log("warning", f"this node died while program {e.died_running} "
                                           f"ran ({dead} time{'s' if dead > 1 else ''})"))
        for hop_id, node, meta_bytes, data, sent_at in e.outbox:
            program = stored_meta(meta_bytes)["program"]  # our own bytes, from our store
            ledger.outbox[hop_id] = [node, meta_bytes, data, sent_at, program]
            self._place(program, "sent", node, hop_id, stored_meta(meta_bytes), sent_at)
        for hop_id, program, meta_bytes, data in e.inbox:
            meta = stored_meta(meta_bytes)
            self._place(program, "here", self.name, hop_id, meta)
            self._run(meta, hop_id, data, True,
                      counted=program.split("/", 1)[0] != e.died_running)
        for ref_id, node in e.moves:
            self.data.moving.setdefault(ref_id, [])
            self.out.append(Relocate(ref_id, node))
        if e.died_running:
            self._write_now()  # (the count at once: its program waits for it, _run)

    # ---- programs arriving -------------------------------------------------------------------
    def _submit(self, e: ev.SubmitReceived) -> None:
        """A client's program. Taken like a hop whose id the program id gives: written with
        the ledger's next write, then confirmed to the client ("accepted"), which sends it
        again, marked `again`, until then; a submission seen before is only confirmed
        again."""
        p, ledger = e.p, self.ledger
        program = p["program"]
        hop_id = submit_id(program)
        if (self.write_failed_since is not None or self.leaving) and not ledger.seen(hop_id):
            # not taken: it could not be written, or the node leaves (the client sends it
            # again: to the node's heir once it is removed)
            self.out.append(Reply(e.client, "waiting", {
                "program": program, "node": self.name,
                "since": self.now if self.leaving else self.write_failed_since,
                "reason": "it is leaving the cluster" if self.leaving
                else f"its store refuses writes ({self.write_error})"}))
            return
        if not ledger.seen(hop_id) and p.get("submitted", self.now) < self.now - SUBMIT_KEPT:
            self.out.append(Reply(e.client, "result", {  # (not taken: `done` forgot it)
                "program": program, "seq": 0, "ok": False, "route": [], "traceback": "",
                "error": f"SubmissionTooOld: submitted {self.now - p['submitted']:.0f} s ago, "
                         f"more than the {SUBMIT_KEPT:.0f} s a node remembers submissions it "
                         f"took; submit it again as a new program"}))
            return
        lacking = [h for h in p.get("kept", ()) if h not in self.sources]
        if lacking and not ledger.seen(hop_id):  # (not taken: sent again with their text)
            self.out.append(Reply(e.client, "sources?", {"program": program, "hashes": lacking}))
            return
        if hop_id in self.quick:  # (sent again while it runs, not written: quick.py)
            return
        new = {h: tuple(v) for h, v in p["sources"].items() if h not in self.sources}
        fast = p.get("quick") and not new and not ledger.seen(hop_id)
        if not fast:
            ledger.confirm(e.client, program)
        if ledger.seen(hop_id):
            return
        if new:
            self.sources.update(new)
            ledger.add_sources(new)
        meta = {"submit": True, "program": program, "client": e.client,
                "entry": p["entry"], "modules": p["modules"], "argv": p.get("argv", []),
                "hop_checkpoints": p.get("hop_checkpoints", False),
                "policy": p.get("policy", "migrate"), "strict": p.get("strict", False),
                "trace": p.get("trace", False),
                "record_access": p.get("record_access", True),
                "submitted": p.get("submitted", self.now), "cwd": p.get("cwd", ""),
                "stdin": p.get("stdin", "none"), "files": p.get("files", {})}
        forget_at = max(self.now, meta["submitted"]) + SUBMIT_KEPT
        if fast:
            quick.start(self, hop_id, e.client, meta, forget_at)
        else:
            ledger.take(None, hop_id, program, encode(meta), b"", forget_at=forget_at)
        self._place(program, "here", self.name, hop_id, meta)
        # a submission sent again may have run here before a crash: its hops say so
        self._run(meta, hop_id, b"", bool(p.get("again")))

    def _hop(self, e: ev.HopReceived) -> None:
        if e.sender in self.fenced:  # (the shell's gate refuses it first)
            return
        extra, ledger = e.extra, self.ledger
        if "acks" in extra:
            self._acknowledged(extra["acks"])
        if "forget" in extra:
            ledger.forget(extra["forget"], e.now + self.forget_after)
        if "load" in extra:
            self.peer_load[e.sender] = (extra["load"], e.now)
        hop_id = e.meta["hop_id"]
        if ledger.seen(hop_id):  # a resend of a hop taken already: acknowledged again
            ledger.next.unwritten.setdefault(e.sender, []).append(hop_id)
            if e.meta["program"] not in self.present:  # taken before a restart, and gone on
                self._place(e.meta["program"], "handed", "", None, e.meta)  # (to: unknown)
            failover.tell_held(self, e.sender, hop_id)  # (its mirror silent: why no ack)
            return
        if self.write_failed_since is not None or self.leaving:
            # Discussion: a hop is taken only if it can be written: its program would run
            # here, and nothing it did could be acknowledged or reported until the store
            # writes again. Refused instead, it waits in its sender's outbox (resent every
            # second), where its program is told why. (A node leaving takes none: the hop
            # goes to its heir once the node is removed, fences.py.)
            self.out.append(Send(e.sender, "refused", {
                "hop_ids": [hop_id], "reason": "it is leaving the cluster" if self.leaving
                else f"its store refuses writes ({self.write_error})"}))
            return
        if extra.get("cancelled"):
            clients.carried(self, e.meta["program"])
        ledger.take(e.sender, hop_id, e.meta["program"], e.meta_bytes, e.data)
        self._resume(e.meta, hop_id, e.data, bool(extra.get("again")), e.now)

    def _resume(self, meta: dict, hop_id: str, data: bytes, again: bool, now: float) -> None:
        self.count("hops_in")
        self.history.arrived(meta, self.name, now)
        self._place(meta["program"], "here", self.name, hop_id, meta, now)
        if meta.get("trace") and meta.get("why"):
            why, source, size, t0 = meta["why"]
            self._send(Reply(meta["client"], "trace", {
                "program": meta["program"], "from": source, "to": self.name, "why": why,
                "bytes": size, "at": t0,  # (a hop to this node itself: no wire, 0 us)
                "us": 0 if source == self.name else max(0, round((now - t0) * 1e6))}))
        self._run(meta, hop_id, data, again)

    def _run(self, meta: dict, hop_id: str, data: bytes, again: bool,
             counted: bool = True) -> None:
        """Start or resume a program here - unless it was cancelled before it started, or
        has killed nodes running it (quarantine): then it ends here, saying why. One
        cancelled since it started is resumed with KeyboardInterrupt where it waits (its
        `finally` blocks run: program.arriving says why). Not `counted`: the program was
        running when this node died, and the count of that (_booted) is not on disk yet -
        it runs once the count is written (run at once, a program that kills the node
        again left the count where it was, and was never quarantined: seen under load)."""
        program = meta["program"]
        root = program.split("/", 1)[0]
        error = None
        interrupt = root in self.cancelled
        if interrupt and (meta.get("submit") or meta.get("start")):
            error = "KeyboardInterrupt: cancelled"
        elif self.deaths.get(root, 0) >= QUARANTINE_DEATHS:
            error = (f"Quarantined: program {root} was running when node {self.name} died "
                     f"{self.deaths[root]} times (os._exit, a crash of C code, memory?); it "
                     f"is not run again")
        elif hop_id in self.partial:
            refs = ", ".join(self.partial.pop(hop_id)) or "?"
            error = (f"PartlyDone: node {self.name} stopped while program {program} was "
                     f"under way there, after some of its Ref writes were kept ({refs}) "
                     f"but not the rest of its segment (it had parked or been switched out "
                     f"since, not at a hop); run again, it would make them twice, so it ends "
                     f"here: docs/nodes.md, \"A segment cut mid-way\"")
        if error is None:
            if again:
                self.rerun.add(hop_id)
            run = (Start(meta, hop_id, again) if meta.get("submit")
                   else Resume(meta, hop_id, data, again, interrupt))
            if counted:
                self.out.append(run)
            else:  # (after the write of the unit being made, which holds the count)
                self._send(run, hold=True)
            return
        self.out.append(Log("warning", f"program {program} (hop {hop_id}) not run: {error}"))
        result = None if meta.get("task") else {
            "program": program, "seq": meta.get("seq", 0), "ok": False, "error": error,
            "traceback": "", "route": list(meta.get("route", [])) + [self.name],
            "value": None}
        self._finished(ev.ProgramFinished(program, meta["client"], hop_id, result, error))

    def _acknowledged(self, hop_ids) -> None:
        """Hops their receivers wrote: off the outbox (with the next write)."""
        outbox, present, now = self.ledger.outbox, self.present, self.now
        for hop_id in hop_ids:
            entry = outbox.get(hop_id)
            if entry is None:
                continue
            where = present.get(entry[4])
            if where is not None and where[3] == hop_id:  # (not back here meanwhile)
                present.hand(entry[4], entry[0], now)
        self.ledger.acknowledged(hop_ids)

    # ---- programs leaving, printing, ending ------------------------------------------------
    def _hop_sent(self, e: ev.HopSent) -> None:
        """Send a hop, with the acks `dest` is owed; it is written to the outbox by the
        ledger's next write (ledger.py says why sending first loses nothing). A hop to this
        node (a task placed here) is taken at once."""
        ledger, meta = self.ledger, e.meta
        if e.finished:
            ledger.finish(e.finished)
            self.rerun.discard(e.finished)
            answers.segment_ended(self, e.finished)
        new = None
        if e.values:  # (kept before the hop leaves: its receiver may ask for them)
            new = {h: (VALUE, "", blob) for h, blob in e.values.items() if h not in self.sources}
            self.sources.update(new)
            ledger.add_sources(new)
            self.held_bytes += sum(len(v[2]) for v in new.values())
        meta_bytes = encode(meta)
        hop_id = meta["hop_id"]
        dest = self.route(e.dest)
        if dest == self.name:
            if not ledger.seen(hop_id):
                ledger.take(None, hop_id, meta["program"], meta_bytes, e.data)
                self._resume(meta, hop_id, e.data, e.again, self.now)
            return
        if self.lost(dest):  # never taken: the program is lost with that node
            self._place(meta["program"], "handed", dest, hop_id, meta)
            self.out.append(Log("warning", f"program {meta['program']} wants {dest}, which "
                                           f"was declared gone"))
            return
        extra: dict = {"again": True} if e.again else {}
        if e.load > 0:  # for the receiver's least_loaded()
            extra["load"] = e.load
        acks = ledger.acks_for(dest)
        if acks:
            extra["acks"] = acks
        forgets = ledger.forgets_for(dest)
        if forgets:
            extra["forget"] = forgets
        self._send(Send(dest, "hop", extra, (meta_bytes, e.data)),  # (ledger.py: cut mid-way)
                   hold=e.finished in ledger.cut_mid_way or bool(new))
        ledger.sent(hop_id, dest, meta_bytes, e.data, self.now, meta["program"])
        self._place(meta["program"], "sent", dest, hop_id, meta)
        self.count("hops_out")

    def _printed(self, e: ev.ProgramPrinted) -> None:
        """A program's output: kept (for collect?) and sent."""
        fields = {"program": e.program, "seq": e.seq, "text": e.text}
        if e.stream != "out":
            fields["stream"] = e.stream  # "err": the client prints it on its stderr
        body = encode(fields)
        self.ledger.keep(e.program, e.seq, "output", body)
        self._send(Reply(e.client, "output", fields, body))

    def _finished(self, e: ev.ProgramFinished) -> None:
        """A program ended here. Its result is kept and leaves only once its end is written:
        sent before, a crash would run its last segment again and send a second result."""
        if self.quick and quick.finished(self, e):  # (a quick one that wrote nothing)
            return
        # (first: a MemoryError there leaves nothing half done; program.py tries again)
        body = encode(e.result) if e.result is not None else None
        if e.hop_id:
            self.ledger.finish(e.hop_id)
            self.rerun.discard(e.hop_id)
            answers.segment_ended(self, e.hop_id)
        self.present.pop(e.program, None)
        if e.result is not None:
            self.ledger.keep(e.program, e.result["seq"], "result", body)
            self._send(Reply(e.client, "result", e.result, body), hold=True)
            self._write_now()
        elif e.error is not None:  # a task that failed outside its future: say so
            self.out.append(Log("warning", f"task {e.program} failed: {e.error}"))
        # Discussion: a task (no result for a client) is written with the next group commit
        # (ledger.due: WRITE_DELAY), with the other tasks that end meanwhile - one
        # transaction for many, not one each. Nothing waits on its write but what
        # waits on any write: its future's result (a staged Ref write) is read by
        # another node only once on disk (_send), and its hop stays in the inbox until then.

    # ---- where programs are (whereabouts.py) ------------------------------------------------
    def _place(self, program: str, state: str, node: str, hop_id: str, meta: dict,
               when: float | None = None) -> None:
        self.present.place(program, state, node, hop_id, meta,
                           self.now if when is None else when)

    # ---- the disk ----------------------------------------------------------------------------------
    def _committed(self, e: ev.Committed) -> None:
        if mirror.committed(self, e):
            self._written(e.now)

    def _written(self, now: float) -> None:
        """The write under way counts as written: on disk here, and on the mirror's copy
        while it is live (mirror.py)."""
        txn = self.ledger.written(now)
        if self.ledger.failed:  # parts of a failed write left: the next one at once
            self.next_retry = now
        elif self.write_failed_since is not None:
            self.out.append(Log("warning", f"the store takes writes again (it failed for "
                                           f"{now - self.write_failed_since:.1f} s: "
                                           f"{self.write_error})"))
            self.write_failed_since = None
        for client, program in txn.confirm:
            self.out.append(Reply(client, "accepted", {"program": program}))
        if self.held:
            self._release()
        answers.released(self)

    def _commit_failed(self, e: ev.CommitFailed) -> None:
        self.count("writes_failed")
        if self.ledger.write_failed():  # several units: the first half of them at once
            self.next_retry = e.now
            return
        # a single unit failed: the store refuses writes for now (ledger.py)
        if self.write_failed_since is None:
            self.write_failed_since = e.now
            self.write_error = e.error
            self.out.append(Log("error", f"the store refused a write: {e.error}; nothing it "
                                         f"holds is acknowledged or sent until it is written "
                                         f"(tried again every {RETRY_WRITE_SECONDS:g} s)"))
        self.next_retry = e.now + RETRY_WRITE_SECONDS

    # ---- the clock -------------------------------------------------------------------------------
    def _tick(self, e: ev.Tick) -> None:
        now = self.now = e.now
        if e.heard is not None:
            self.failover.heard = e.heard
        ledger = self.ledger
        if ledger.retry():
            if now >= self.next_retry:
                self.out.append(Persist(ledger.write()))
        elif ledger.due(now):
            self.out.append(Persist(ledger.write()))
        if ledger.overdue(now):  # the acks no hop took along
            fields = {"load": e.load} if e.load >= 0 else {}  # (for least_loaded, tasks.py)
            for peer, hop_ids in ledger.take_owed().items():  # (they show no write)
                self.out.append(Send(peer, "ack", {"hop_ids": hop_ids, **fields}))
        mirror.tick(self, now)
        failover.tick(self, now)
        if now >= self.next_resend:
            self.next_resend = now + RESEND_SECONDS
            ledger.expire(now)
            self._send_forgets()
            resend.unacknowledged(self, now, RESEND_SECONDS)
            questions.follow_up(self, now, RESEND_SECONDS)
            answers.prune(self, now)

    def _stopping(self, e: ev.Stopping) -> None:
        failover.bye(self)
        if self.ledger.pending() or self.ledger.retry():
            self._write_now()
        for peer, hop_ids in self.ledger.take_owed().items():
            self.out.append(Send(peer, "ack", {"hop_ids": hop_ids}))
        self._send_forgets()

    def _send_forgets(self) -> None:
        """What no hop took along of the hops our peers may forget (ledger.forget)."""
        for peer, hop_ids in self.ledger.take_forgets().items():
            if not self.lost(peer):
                self.out.append(Send(peer, "ack", {"hop_ids": [], "forget": hop_ids}))

    def wakeup_at(self) -> float | None:
        """When the machine next needs a Tick (None: not until something happens) - the
        shell's poll timeout, the simulator's next clock event."""
        ledger, times = self.ledger, []
        if ledger.retry():
            times.append(self.next_retry)
        elif ledger.writing is None and ledger.pending():
            since = ledger.pending_since
            times.append(self.now if since is None else since + WRITE_DELAY)
        if ledger.owed:
            times.append(ledger.owed_since + ACK_DELAY)
        if ledger.outbox or self.asks or self.source_asks:
            times.append(self.next_resend)
        for due in (self.mirror.due(), failover.due(self)):
            if due is not None:
                times.append(due)
        return min(times) if times else None

    # ---- what programs may read -------------------------------------------------------------
    def load_of(self, peer: str, now: float, believed: float) -> int:
        load, heard = self.peer_load.get(peer, (0, 0.0))
        return load if now - heard < believed else 0

    def locate(self, ref_id: str, hint: str) -> str:
        """The node holding a Ref, as far as this node knows."""
        data = self.data
        if data.has(ref_id) or ref_id in data.moving:
            return self.name
        return self.route(data.forward(ref_id) or
                          (hint if hint != self.name else ref_id.split(".")[0]))
