"""The one error type of Skywriting scripts - a message with file:line:col - and how a Python
error raised while a script runs becomes one, located at the script's own line."""

from __future__ import annotations

from swarm.errors import TaskFailed


class SkywritingError(Exception):
    """A syntax or runtime error in a script, located in its file (1-based line and column)."""

    def __init__(self, message: str, filename: str = "", line: int = 0, col: int = 0) -> None:
        super().__init__(message)
        self.message, self.filename, self.line, self.col = message, filename, line, col

    def __str__(self) -> str:
        if self.filename:
            return f"{self.filename}:{self.line}:{self.col}: {self.message}"
        return self.message


def locate(error: BaseException) -> tuple[str, int, int]:
    """file, line, column of the innermost Skywriting frame in the error's traceback."""
    where = ("", 0, 0)
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(".sw"):
            positions = list(code.co_positions())
            index = tb.tb_lasti // 2
            line, col = tb.tb_lineno, 0
            if 0 <= index < len(positions) and positions[index][2] is not None:
                line, col = positions[index][0] or line, positions[index][2]
            where = (code.co_filename, line, col + 1)
        tb = tb.tb_next
    return where


def fail(error: BaseException):
    """Raise `error` as a SkywritingError located at its innermost script frame."""
    if isinstance(error, SkywritingError) and error.filename:
        raise error
    filename, line, col = locate(error)
    message = error.message if isinstance(error, SkywritingError) else _python_message(error)
    raise SkywritingError(message, filename, line, col) from None


def _python_message(error: BaseException) -> str:
    text_ = str(error).replace("v_", "")
    if isinstance(error, TypeError) and "required positional argument" in text_:
        return "missing argument: " + text_.split(": ", 1)[-1]
    if isinstance(error, RecursionError):
        return "recursion too deep"
    if isinstance(error, TaskFailed):
        return f"the task failed: {error}"
    return f"{type(error).__name__}: {text_}"
