"""The one error type of Skywriting scripts: a message with file:line:col."""

from __future__ import annotations


class SkywritingError(Exception):
    """A syntax or runtime error in a script, located in its file (1-based line and column)."""

    def __init__(self, message: str, filename: str = "", line: int = 0, col: int = 0) -> None:
        super().__init__(message)
        self.message, self.filename, self.line, self.col = message, filename, line, col

    def __str__(self) -> str:
        if self.filename:
            return f"{self.filename}:{self.line}:{self.col}: {self.message}"
        return self.message
