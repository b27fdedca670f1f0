"""Errors of the continuation runtime that users see."""


class NotMigratable(Exception):
    """The running program cannot be captured here.

    The message names what stops it: a local variable that cannot be pickled, or a frame that
    was not compiled (C code such as ``sorted(key=...)``, library code, a decorator's wrapper
    from a library), with the function, file and line.
    """


def frames_lost(message: str) -> NotMigratable:
    """NotMigratable found only once the capture had unwound frames that recorded nothing
    (C code between a suspension and the script's top level): those frames are gone, so the
    program cannot go on by fetching either - it fails with this error (`frames_lost`)."""
    e = NotMigratable(message)
    e.frames_lost = True
    return e
