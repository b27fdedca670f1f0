"""The kernel in-process: which stacks a program may be switched out at (preemption), and
cancellation of a parked greenlet - no node, no sockets."""

import sys

from greenlet import greenlet

from swarm.node.kernel import ABANDON_SECONDS, Kernel, _preemptible


def stack(*modules: str):
    """The frame at the top of a greenlet's stack made of one frame of each of these modules,
    the first at the bottom (a program's greenlet starts in the node's code, as the kernel's
    does), nothing else in between."""
    scope = {"__name__": modules[-1], "sys": sys}
    exec("def call():\n    return sys._getframe()\n", scope)
    nxt = scope["call"]
    for module in reversed(modules[:-1]):
        scope = {"__name__": module, "nxt": nxt}
        exec("def call():\n    return nxt()\n", scope)
        nxt = scope["call"]
    return greenlet(nxt).switch()


def test_a_program_is_switched_out_only_in_its_own_code():
    base = ("swarm.node.kernel", "swarm.node.program", "swarm.node.shell")
    assert _preemptible(stack(*base, "__main__"))  # the program's loop
    assert _preemptible(stack(*base, "__main__", "helper", "json.decoder"))  # a library's
    assert _preemptible(stack(*base, "__main__", "swarm.continuation.resume", "__main__"))
    assert not _preemptible(stack(*base, "__main__", "swarm.node.traps"))  # in its node
    assert not _preemptible(stack(*base, "__main__", "swarm.node.collserve", "__main__"))
    assert not _preemptible(stack(*base, "__main__", "importlib._bootstrap", "mod"))
    assert not _preemptible(stack(*base, "__main__", "logging", "__main__"))
    assert not _preemptible(stack(*base, "swarm.node.machine.state"))  # node code alone
    assert not _preemptible(stack("swarm.node.kernel", "swarm.node.refserve"))
    # the node encoding its hop: a program's class's __subclasscheck__ (abc) on top of the
    # codec (a cancel's interrupt thrown there failed the greenlet: the program never ended)
    assert not _preemptible(stack(*base, "swarm.continuation.codec",
                                  "swarm.continuation.reductions", "abc"))
    assert not _preemptible(stack(*base, "__main__", "swarm.continuation.unwind", "__main__"))
    assert _preemptible(stack(*base, "__main__", "swarm.continuation.primitives"))


class Context:
    """What the kernel needs of a program (its id, its mark, switching its state in and
    out; `shielded`: txnserve's commit)."""
    id = "p1"
    mark = b"p1"
    shielded = False

    def enter(self):
        pass

    def leave(self):
        pass


def test_a_parked_greenlet_is_cancelled_where_it_waits():
    kernel = Kernel()
    seen = []

    def program():
        try:
            kernel.wait("never")
        except KeyboardInterrupt as e:
            seen.append(str(e))
            raise

    kernel.spawn(program, context=Context())
    kernel.run_ready()  # it parks
    assert "never" in kernel.parked
    assert kernel.cancel(lambda ctx: ctx.id == "p1") == 1
    kernel.run_ready()
    assert seen == ["cancelled"] and not kernel.parked and not kernel.context
    kernel.close()


def test_a_cancelled_greenlet_that_parks_again_is_dropped_with_its_wait():
    """One that catches the interrupt and parks again (a `finally` asking a node that does
    not answer) is dropped ABANDON_SECONDS after the cancel, and the key it waited on is
    told (the node drops the question: asking.wait)."""
    kernel = Kernel()
    abandoned, unparked = [], []
    kernel.on_abandon, kernel.on_unparked = abandoned.append, unparked.append

    def program():
        try:
            kernel.wait("first")
        finally:
            kernel.wait("cleanup")  # parks again

    ctx = Context()
    kernel.spawn(program, context=ctx)
    kernel.run_ready()
    kernel.cancel(lambda c: c.id == "p1")
    kernel.run_ready()
    assert list(kernel.parked) == ["cleanup"]
    kernel.abandon_overdue()  # (not yet: it was cancelled just now)
    assert list(kernel.parked) == ["cleanup"] and not abandoned
    for thrown in kernel.throws.values():  # as if ABANDON_SECONDS had passed
        thrown[1] -= ABANDON_SECONDS + 1
    kernel.abandon_overdue()
    assert abandoned == [ctx] and unparked == ["cleanup"]
    assert not kernel.parked and not kernel.context and not kernel.throws
    kernel.close()


def test_a_shielded_greenlet_gets_the_cancel_when_it_asks_for_it():
    """An atomic block's commit (txnserve._commit_everywhere) is not stopped half done: a
    cancel meanwhile neither wakes nor drops the program; it raises the interrupt after."""
    kernel = Kernel()
    seen = []

    ctx = Context()
    ctx.shielded = True

    def program():
        seen.append(kernel.wait("commit"))  # not woken by the cancel
        ctx.shielded = False
        seen.append(repr(kernel.pending_interrupt()))
        seen.append(kernel.pending_interrupt())  # (once)

    kernel.spawn(program, context=ctx)
    kernel.run_ready()
    assert kernel.cancel(lambda c: c.id == "p1") == 1
    kernel.run_ready()
    for thrown in kernel.throws.values():  # as if ABANDON_SECONDS had passed
        thrown[1] -= ABANDON_SECONDS + 1
    kernel.abandon_overdue()
    assert list(kernel.parked) == ["commit"] and not seen
    kernel.wake("commit", "committed")
    kernel.run_ready()
    assert seen == ["committed", "KeyboardInterrupt('cancelled')", None]
    kernel.close()


def test_an_ended_programs_greenlet_runs_the_next_in_a_fresh_context():
    """A greenlet whose program ended is kept for the next spawn (Kernel.pool): the next
    program runs in it with nothing of the one before - a new, empty contextvars context -
    and one that raised is not kept (its greenlet ended with it, as before)."""
    import contextvars

    var = contextvars.ContextVar("var", default="unset")
    kernel = Kernel()
    seen = []

    def first():
        var.set("first's")
        seen.append(kernel.wait("a"))  # parks once: resumed in the same greenlet

    def second():
        seen.append(var.get())

    def failing():
        raise RuntimeError("a program's error reaching the hub")

    g1 = kernel.spawn(first, context=Context())
    kernel.run_ready()
    kernel.wake("a", "woken")
    kernel.run_ready()
    assert seen == ["woken"] and kernel.pool == [g1] and not kernel.context
    g2 = kernel.spawn(second, context=Context())
    assert g2 is g1 and not kernel.pool
    kernel.run_ready()
    assert seen == ["woken", "unset"] and kernel.pool == [g1]
    g3 = kernel.spawn(failing)
    kernel.run_ready()  # (logged: "a program greenlet failed")
    assert g3 is g1 and g3.dead and not kernel.pool
    kernel.close()


def test_a_program_cancelled_before_it_starts_in_a_kept_greenlet_never_runs():
    """A cancel that reaches a program spawned in a kept greenlet before its first turn drops
    it, as it dropped one in a new greenlet (run_ready: never started)."""
    kernel = Kernel()
    ran, abandoned = [], []
    kernel.on_abandon = abandoned.append
    kernel.spawn(lambda: None)
    kernel.run_ready()
    kept = kernel.pool[0]
    ctx = Context()
    assert kernel.spawn(ran.append, "ran", context=ctx) is kept
    assert kernel.cancel(lambda c: c.id == "p1") == 1
    kernel.run_ready()
    assert ran == [] and abandoned == [ctx] and not kernel.context and not kernel.pool
    kernel.close()
