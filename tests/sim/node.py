"""A simulated node (SimNode) and the programs it runs (SimProgram), for world.py's cluster.

A SimNode holds the node's real logic (a NodeState, swarm/node/machine/) and carries out its
instructions the way the shell does on a real node - on the world's simulated disk (store.py),
network and clock: Persist as a transaction of its SimStore, Send through World.send, Start and
Resume as a SimProgram's next step. A crash drops all of it but the disk; boot() reads the disk
back, as a node process does at its start.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING

import msgpack

from swarm.continuation import codec
from swarm.node import machine as m
from swarm.node.asking import asked_digest
from swarm.node.machine.fences import join_problem
from swarm.node.machine.ids import VALUE, derived_id, value_hash
from tests.sim import adoptions, failovers, mirrors
from tests.sim.store import DiskFull, SimStore

if TYPE_CHECKING:
    from tests.sim.world import World

# a hop its sender forgot leaves `done` this long after (ledger.py): twice the longest a
# message is on its way here (the gate's replay window on real nodes) - short, so that runs
# forget hops, and a hop that came again after its forgetting would be taken twice
FORGET_AFTER = 1.0


class SimProgram:
    """What the shell's Program holds of a running program (swarm/node/program.py)."""

    def __init__(self, meta: dict, hop_id: str, again: bool) -> None:
        self.meta, self.hop_id, self.again = meta, hop_id, again
        self.id, self.client = meta["program"], meta["client"]
        self.seq = meta.get("seq", 0)
        self.route = list(meta.get("route", []))
        self.made = self.asked = 0
        self.values = list(meta.get("values", []))  # its large values' hashes at its last hop

    def next_id(self) -> str:
        made, self.made = self.made, self.made + 1
        return derived_id(self.hop_id or self.id, made)

    def next_question_id(self) -> str:
        asked, self.asked = self.asked, self.asked + 1
        return derived_id(self.hop_id or self.id, f"q{asked}")


class SimNode:
    def __init__(self, world: World, name: str) -> None:
        self.world, self.name = world, name
        self.store = SimStore()
        self.up = False
        self.lost = False  # gone for good (Faults.gone)
        self.state: m.NodeState | None = None
        self.epoch = 0
        self.tick_at: float | None = None
        self.waits: dict[str, tuple] = {}  # key -> (program, go_on): parked on a question
        self.interrupted: set[str] = set()  # programs cancelled here: stopped at their next
        # turn (the kernel's throws: KeyboardInterrupt where they are)
        self.copies: dict[str, SimStore] = {}  # other nodes' stores kept here (mirrors.py)
        self.saved = self.saved_copies = None  # an image of its disk (mirrors.save)
        self.store_new = False  # its disk was lost: it asks its mirror before it boots
        self.restoring = False
        self.catching = None  # (epoch, snapshot sent): catching its mirror up (mirrors.py)
        self.heard: dict[str, float] = {}  # peer -> when its last message came (the shell's)
        self.boot_names = list(world.names)  # the cluster file as it read it at its boot
        self.former: dict | None = None  # answers of former mirrors (mirrors.restored)
        self.logs: list = []  # (when, level, text): what its log would say

    @property
    def names(self) -> list[str]:
        """The members this node knows (the shell's config: the file, and joins since)."""
        return self.state.names if self.state is not None else self.boot_names

    # ---- life -------------------------------------------------------------------------------------
    def boot(self, zombie: bool = False) -> None:
        if self.up or (self.lost and not zombie):
            return
        w = self.world
        self.epoch += 1
        self.up = True
        self.tick_at = None
        self.waits = {}
        self.interrupted = set()
        self.boot_names = list(w.names)
        self.former = None
        mirror = w.mirror_of(self.name, w.fenced)
        self.catching = None
        self.store_new = not self.store.born  # (on its disk: a crash while it restores
        if mirror is not None:  # leaves it so)  # (restore.py: first the mirror's copy, or the mirror
            self.restoring, self.state = True, None  # brought up to this store)
            w.note(f"{self.name} boots" + (" with a new store: asks its mirror"
                                           if self.store_new else ": catches its mirror up"))
            (mirrors.ask_restore if self.store_new else mirrors.catch_up)(self, self.epoch)
            return
        self.start()

    def start(self, mirror_down: bool = False) -> None:
        """The machine starts on the store (after boot, and restore.py's part)."""
        w = self.world
        self.restoring = False
        self.state = m.NodeState(self.name, w.names, m.RefData(self.store, codec.dumps,
                                                               codec.loads,
                                                               version_tag=f"{self.name}:{self.epoch}"),
                                 dict(self.store.sources), hop_timeout=w.hop_timeout,
                                 now=w.now, forget_after=FORGET_AFTER,
                                 replicas=w.replicas, failover_after=w.failover)
        self.heard = {}
        w.note(f"{self.name} starts" + (" (its mirror down)" if mirror_down else ""))
        boot = self.store.boot_state()  # (the heirs the cluster file names are routed)
        boot["heirs"] = {**boot["heirs"], **{n: (h, True) for n, h in w.heirs.items()}}
        boot["fenced"] = sorted({*boot["fenced"], *self.file_fences()})
        self.handle(m.Booted(w.now, **boot, mirror_down=mirror_down))

    def file_fences(self) -> set:  # (read at a start besides the store's: adopt.fenced)
        return set(self.world.fenced)

    def crash(self) -> None:
        if not self.up:
            return
        self.up = self.restoring = False
        self.state = None
        self.world.note(f"{self.name} crashes")

    # ---- the machine -----------------------------------------------------------------------------
    def handle(self, event) -> None:
        if not self.up or self.restoring:
            return
        for instruction in self.state.handle(event):
            self.execute(instruction)
            if not self.up:
                return
        self.schedule_tick()

    def schedule_tick(self) -> None:
        if not self.up or self.restoring:
            return
        when = self.state.wakeup_at()
        if when is None:
            return
        when = max(when, self.world.now)
        if self.tick_at is not None and self.tick_at <= when:
            return
        self.tick_at = when
        self.world.at(when, self._tick, self.epoch)

    def _tick(self, epoch: int) -> None:
        if epoch != self.epoch or not self.up or self.restoring:
            return
        self.tick_at = None
        self.handle(m.Tick(self.world.now, heard=self.heard))

    def execute(self, i) -> None:
        w = self.world
        kind = type(i)
        if kind is m.Send:
            w.send(self.name, i.node, i.kind, i.fields, i.blobs)
        elif kind is m.Reply:
            w.send(self.name, i.client, i.kind, i.fields)
        elif kind is m.Persist:  # the write takes a little while; a crash meanwhile loses it
            w.at(w.now + w.rng.uniform(0.0001, 0.002), self._written, self.epoch, i.txn)
        elif kind is m.Start or kind is m.Resume:
            w.at(w.now + w.rng.uniform(0.00001, 0.0005), self._run, self.epoch, i)
        elif kind is m.AnswerPrograms:
            finished = [p for p in (i.asked or ()) if any(
                k == "result" for k, _ in self.store.kept_for(p))]
            w.send(self.name, i.client, "programs", {"node": self.name, "programs": i.rows,
                                                     "finished": finished,
                                                     "booted": i.booted})
        elif kind is m.SendKept:
            for program in i.programs:
                for k, payload in self.store.kept_for(program):
                    w.send(self.name, i.client, k, msgpack.unpackb(payload, raw=False))
        elif kind is m.Wake:
            self._woken(i)
        elif kind is m.Serve:  # (in a greenlet of its own: a little later)
            w.at(w.now + w.rng.uniform(0.00001, 0.0005), self._serve, self.epoch, i)
        elif kind is m.SendSnapshot:
            mirrors.snapshot(self, i.node)
        elif kind is m.TakeOver:
            failovers.take_over(w, i.heir, i.node)
        elif kind is m.Cancel:
            self._cancel(i.program)
        elif kind is m.AnswerCancel:  # (shell._answer_cancel)
            state = i.state
            if state != "cancelled" and any(k == "result" for k, _ in
                                            self.store.kept_for(i.program)):
                state = "finished"
            w.send(self.name, i.client, "cancelled", {"program": i.program,
                                                      "node": self.name, "state": state})
        elif kind is m.Relocate:
            w.violate(f"{self.name}: Relocate in a simulation without relocations")
        elif kind is m.Log:
            self.logs.append((w.now, i.level, i.text))
        # AnswerStatus, AnswerStats, Stop: nothing to simulate

    def _written(self, epoch: int, txn) -> None:
        if epoch != self.epoch or not self.up:
            return  # the process died before its write was done: the write is lost
        try:
            self.store.commit(txn, self.world.now)
        except DiskFull as e:
            self.handle(m.CommitFailed(str(e), self.world.now))
        else:
            if self.world.replicas < 2:
                self.handle(m.Committed(self.world.now))
            else:
                self.handle(m.Committed(self.world.now,
                                        *mirrors.record(self.store, txn, self.world.now)))

    def receive(self, src: str, kind: str, fields: dict, blobs: tuple) -> None:
        if not self.up:
            return
        now = self.world.now
        self.heard[src] = now
        if kind in mirrors.MIRROR_KINDS:
            if (kind == "restore?" and fields.get("former")) or self.world.mirror_of(
                    src, self.state.fenced if self.state else (), self.names) == self.name:
                mirrors.serve(self, src, kind, fields, blobs)
            return  # (the real node refuses it: not its mirror)
        if self.restoring:  # (nothing else is taken: its senders send it again)
            if kind == "restore" and self.store_new and not self.catching:
                mirrors.restored(self, src, fields, blobs)
            elif kind == "mirrored" and not self.store_new:
                mirrors.caught_up(self, fields)
            return
        if kind == "restore":
            return
        if kind == "mirrored":
            self.handle(m.MirrorAnswered(src, fields["seq"], fields["have"], fields["gap"],
                                         fields.get("probe", False),
                                         fields.get("behind", False)))
        elif kind == "hop":
            meta_bytes, data = blobs
            self.handle(m.HopReceived(src, msgpack.unpackb(meta_bytes, raw=False), meta_bytes,
                                      fields, data, now))
        elif kind == "ack":
            self.handle(m.AckReceived(src, fields["hop_ids"]))
        elif kind == "refused":
            self.handle(m.RefusedReceived(src, fields["hop_ids"], fields["reason"]))
        elif kind == "submit":
            self.handle(m.SubmitReceived(src, fields))
        elif kind == "collect?":
            self.handle(m.CollectRequested(src, fields["programs"]))
        elif kind == "fence":
            self.handle(m.FenceRequested(src, fields["node"], fields["phase"],
                                         fields.get("heir")))
        elif kind == "adopt":  # (the shell's part: node/adopt.py)
            adoptions.adopt(self, src, fields)
        elif kind == "join":  # (the shell's part, members.py: `names` is the machine's)
            problem = join_problem(self.state.names, fields["node"], fields.get("members"))
            if problem:
                self.world.send(self.name, src, "joined", {"node": fields["node"],
                                                           "error": problem})
            else:
                self.handle(m.MemberJoined(src, fields["node"]))
        elif kind == "programs?":
            self.handle(m.ProgramsRequested(src, fields["programs"]))
        elif kind == "fetch":
            self.handle(m.FetchRequested(src, fields["key"], fields["action"], fields["ref"],
                                         blobs[0], fields.get("op")))
        elif kind == "fetched":
            self.handle(m.FetchAnswered(src, fields["key"], dict(
                fields, **({"value": blobs[0]} if blobs else {}))))
        elif kind == "answered":
            self.handle(m.AnswersUsed(src, fields["ops"]))
        elif kind == "gc":  # (garbage.py; a sim program holds nothing in memory between steps)
            self.handle(m.GcRequested(src, fields["cycle"], fields["phase"],
                                      fields.get("ids", []), [], fields.get("nodes", [])))
        elif kind == "gc-flush":
            self.handle(m.GcFlushed(src, fields["cycle"]))
        elif kind == "failover":
            self.handle(m.FailoverReceived(src, fields))
        elif kind == "cancel":
            self.handle(m.CancelRequested(src, fields["program"]))
        elif kind == "source?":
            self.handle(m.SourceRequested(src, fields["key"], fields["hash"]))
        elif kind == "source":  # (inbound._source: a value's pickle comes in the frame)
            source = fields["source"]
            if source is not None and source[0] == VALUE:
                source = [VALUE, "", blobs[0]] if blobs else None
            self.handle(m.SourceReceived(src, fields["key"], source))
        else:
            self.world.violate(f"{self.name} got a {kind} it has no use for in the simulation")

    # ---- programs (what the kernel and program.py do) -------------------------------------------
    def _run(self, epoch: int, i) -> None:
        if epoch != self.epoch or not self.up:
            return
        prog = SimProgram(i.meta, i.hop_id, i.again)
        if not prog.route or prog.route[-1] != self.name:
            prog.route.append(self.name)
        if getattr(i, "interrupt", False) or self._stopped(prog):  # (cancelled since)
            self.finish(prog, ok=False, error="KeyboardInterrupt: cancelled")
            return
        data = getattr(i, "data", b"")
        missing = [h for h in i.meta.get("needs", ()) if h not in self.state.sources]
        if missing:  # (shell._resume: asking.fetch_sources, then decode)
            self._fetch_values(prog, missing, lambda: self._run_now(prog, data))
            return
        self.state.data.segment = prog.hop_id  # (as Program.enter: its writes are its own)
        try:
            self._run_now(prog, data)
        finally:
            self.state.data.segment = None

    def _run_now(self, prog: SimProgram, data: bytes) -> None:
        state = pickle.loads(data) if data else None
        if isinstance(state, tuple) and state and state[0] == "values":  # (self.hop's)
            _, inner, inline, named = state
            found = {}
            for name, h in named.items():
                blob = inline.get(h)
                if blob is None:
                    entry = self.state.sources.get(h)
                    if entry is None or entry[0] != VALUE:
                        self.world.violate(f"{self.name}: {prog.id}'s value {name} ({h[:12]}) "
                                           f"is named by hash and held nowhere here")
                        return
                    blob = entry[2]
                found[name] = blob
            prog.values = list(named.values())
            state = (inner, found)
        self.world.programs[prog.id].run(self, prog, state)

    def _fetch_values(self, prog: SimProgram, missing: list, then) -> None:
        """Ask the node the hop came from for what it names by hash and this node lacks,
        one at a time (asking.fetch_sources); a value none has fails the program."""
        while missing and missing[0] in self.state.sources:
            missing = missing[1:]
        if not missing:
            then()
            return
        digest, key = missing[0], self.state.next_key("source-wait")

        def got(value) -> None:
            if value is None:
                sender = prog.meta.get("from")
                kind = "NodeGone" if self.state.lost(self.state.route(sender)) else \
                    "LookupError"
                self.finish(prog, ok=False, error=f"{kind}: {sender} has no source "
                                                  f"{digest[:12]}")
                return
            self._fetch_values(prog, missing[1:], then)

        self.waits[key] = (prog, got)
        self.handle(m.SourceWanted(key, prog.meta.get("from"), digest, self.world.now))

    def ask(self, prog: SimProgram, dest: str, action: str, ref: str, arg, go_on,
            read: bool = False) -> None:
        """The program asks `dest` to do `action` on `ref` (with an id unless it is a
        `read`: asking.py) and parks; `go_on(reply)` runs the rest of its segment once
        answered (reply: the answer's fields, or NO_ANSWER / NODE_GONE)."""
        key = self.state.next_key("fetch")
        self.waits[key] = (prog, go_on)
        blob = pickle.dumps(arg)
        op, segment = (None, None) if read else (
            f"{prog.next_question_id()}.{asked_digest(action, ref, blob)}", prog.hop_id)
        self.handle(m.Asked(key, dest, action, ref, blob, self.world.now, op, segment))

    def _woken(self, i) -> None:
        if i.key not in self.waits:  # (stopped by a cancel meanwhile: _cancel)
            return
        prog, go_on = self.waits.pop(i.key)
        w = self.world
        w.at(w.now + w.rng.uniform(0.00001, 0.0005), self._go_on, self.epoch, prog,
             lambda: go_on(i.value))

    def _serve(self, epoch: int, i) -> None:
        """refserve.serve: a peer's question, done here (the workload says how)."""
        if epoch != self.epoch or not self.up:
            return
        reply, value = self.world.serve(self, i.action, i.ref, pickle.loads(i.arg))
        # (a read's answer shows the value as stored: it goes at once if that is on disk)
        self.handle(m.Served(i.sender, i.key, reply, value, i.ref if i.op is None else None,
                             i.op))

    def switch_out(self, prog: SimProgram, go_on) -> None:
        """The program's segment is switched out (its slice is over): the machine handles
        other events meanwhile; `go_on` runs the rest of the segment later, unless the
        node died."""
        w = self.world
        w.at(w.now + w.pause_rng.uniform(0.0001, 0.05), self._go_on, self.epoch, prog, go_on)

    def _go_on(self, epoch: int, prog: SimProgram, go_on) -> None:
        if epoch != self.epoch or not self.up:
            return
        if self._stopped(prog):
            self.finish(prog, ok=False, error="KeyboardInterrupt: cancelled")
            return
        self.state.data.segment = prog.hop_id
        try:
            go_on()
        finally:
            self.state.data.segment = None

    def _cancel(self, program: str) -> None:
        """kernel.cancel: KeyboardInterrupt in the program (and its tasks) here - a parked
        one is woken with it (its question no longer asked), a switched-out one gets it at
        its next turn."""
        self.interrupted.add(program)
        for key, (prog, _) in list(self.waits.items()):
            if self._stopped(prog):  # (after the instructions of this event: the kernel's
                del self.waits[key]  # next turn)
                self.world.at(self.world.now, self._stop_parked, self.epoch, key, prog)

    def _stop_parked(self, epoch: int, key: str, prog: SimProgram) -> None:
        if epoch != self.epoch or not self.up:
            return
        self.handle(m.Unasked(key))
        self.finish(prog, ok=False, error="KeyboardInterrupt: cancelled")

    def _stopped(self, prog: SimProgram) -> bool:
        return prog.id.split("/", 1)[0] in self.interrupted

    def print(self, prog: SimProgram, text: str) -> None:
        self.handle(m.ProgramPrinted(prog.id, prog.client, prog.seq, text))
        prog.seq += 1

    def hop(self, prog: SimProgram, dest: str, state, values: dict | None = None) -> None:
        """The program moves on to `dest` with `state` (its continuation) and its large
        `values` ({name: bytes}): as program._encode, those the same as at its hop before go
        by hash (kept here, named in `needs`), the others inside the hop."""
        meta = dict(prog.meta, hop_id=prog.next_id(), seq=prog.seq, route=prog.route,
                    **{"from": self.name})
        meta.pop("submit", None)
        meta.pop("entry", None)
        meta.pop("needs", None)
        meta.pop("values", None)
        kept = None
        if values is not None:
            same = set(prog.values)
            named = {name: value_hash(blob) for name, blob in values.items()}
            kept = {h: values[name] for name, h in named.items() if h in same}
            inline = {h: values[name] for name, h in named.items() if h not in same}
            meta["values"] = list(named.values())
            if kept:
                meta["needs"] = list(kept)
            state = ("values", state, inline, named)
        self.handle(m.HopSent(dest, meta, pickle.dumps(state), prog.hop_id, prog.again,
                              0, kept or None))

    def finish(self, prog: SimProgram, ok: bool = True, error: str | None = None) -> None:
        self.handle(m.ProgramFinished(prog.id, prog.client, prog.hop_id, {
            "program": prog.id, "seq": prog.seq, "ok": ok, "error": error, "traceback": "",
            "route": prog.route, "value": None}))
