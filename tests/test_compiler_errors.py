"""User-facing compile errors carry file:line:col and name the construct."""

import pytest

from swarm.compiler import compile_source
from swarm.compiler.errors import CompileError, InternalCompilerError


def compile_text(text: str):
    return compile_source(text, "prog.py", "prog")


def test_syntax_error_has_file_line_col():
    with pytest.raises(CompileError) as info:
        compile_text("x = 1\ny = (2 +\n")
    err = info.value
    assert (err.filename, err.line) == ("prog.py", 2)
    assert err.col >= 1
    assert str(err).startswith("prog.py:2:")


@pytest.mark.parametrize("source, line, words", [
    ("async def f():\n    pass\n", 1, "async"),
    ("def f():\n    x = 1\n    _sw_t1 = 2\n", 3, "reserved"),
    ("try:\n    pass\nexcept* ValueError:\n    pass\n", 1, "except*"),
    ("def f(xs):\n    match xs:\n        case [a]:\n            g(a)\n", 2, "match"),
])
def test_unsupported_constructs_are_rejected_with_their_line(source, line, words):
    with pytest.raises(CompileError) as info:
        compile_text(source)
    assert info.value.line == line
    assert words in str(info.value)


def test_internal_errors_are_another_family():
    assert not issubclass(InternalCompilerError, CompileError)
    assert not issubclass(CompileError, InternalCompilerError)


def test_compiled_code_points_at_user_lines():
    compiled = compile_text("def f(x):\n    y = g(x)\n    return y\n")
    (info,) = compiled.points.values()
    assert (info.function, info.line) == ("f", 2)


def test_same_source_compiles_once():
    a = compile_text("z = 1\n")
    b = compile_text("z = 1\n")
    assert a is b
