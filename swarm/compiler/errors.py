"""Diagnostics of the compiler. User errors carry file:line:col; internal bugs are another family."""

from __future__ import annotations


class CompileError(Exception):
    """A construct the continuation compiler cannot make migratable, or a syntax error."""

    def __init__(self, message: str, filename: str, line: int, col: int) -> None:
        self.message = message
        self.filename = filename
        self.line = line
        self.col = col
        super().__init__(f"{filename}:{line}:{col}: {message}")


class InternalCompilerError(AssertionError):
    """A broken postcondition inside the compiler: a bug in swarm, not in the user's program."""


def error_at(node, message: str, filename: str) -> CompileError:
    """A CompileError located at an AST node (1-based column)."""
    return CompileError(message, filename, getattr(node, "lineno", 0),
                        getattr(node, "col_offset", -1) + 1)
