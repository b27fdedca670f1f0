"""Errors of the continuation runtime that users see."""


class NotMigratable(Exception):
    """The running program cannot be captured here.

    The message names what stops it: a local variable that cannot be pickled, or a frame that
    was not compiled (C code such as ``sorted(key=...)``, library code, a decorator's wrapper
    from a library), with the function, file and line.
    """
