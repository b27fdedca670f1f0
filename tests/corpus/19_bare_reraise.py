from swarm import checkpoint
# A bare `raise` inside an except block after a checkpoint must re-raise the
# exception being handled (also after a nested, already-handled exception).

log = []


def fail(msg):
    checkpoint()
    raise KeyError(msg)


def middle(msg):
    try:
        fail(msg)
    except KeyError:
        log.append("middle saw " + msg)
        checkpoint()
        raise


def middle_nested(msg):
    try:
        fail(msg)
    except KeyError:
        try:
            checkpoint()
            int("nope")
        except ValueError:
            checkpoint()
            log.append("inner ValueError handled")
        checkpoint()
        raise


def middle_finally(msg):
    try:
        try:
            fail(msg)
        except KeyError:
            checkpoint()
            raise
        finally:
            log.append("finally ran")
    except KeyError as e:
        checkpoint()
        log.append("re-caught " + str(e))
        raise


outs = []
for fn in (middle, middle_nested, middle_finally):
    try:
        fn(fn.__name__)
        outs.append("no exception?")
    except KeyError as e:
        checkpoint()
        outs.append((fn.__name__, type(e).__name__, e.args[0]))
    except ValueError as e:
        outs.append(("WRONG", str(e)))

# top-level bare raise
try:
    try:
        raise RuntimeError("top")
    except RuntimeError:
        checkpoint()
        raise
except RuntimeError as e:
    outs.append(("top", str(e)))

print("log", log)
print("outs", outs)
RESULT = (log, outs)
