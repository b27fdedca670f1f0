"""Skywriting, the scripting language of CIEL, compiled onto the migrate-on-access core.

    syntax.py      lexer and recursive descent parser (errors carry file:line:col)
    tree.py        the syntax tree: a dataclass per kind of node (While(test, body), ...)
    translate.py   syntax tree -> Python `ast` (scopes, by-value captures, located nodes)
    builtins.py    the built-in functions (print, spawn, spawn_exec...) and executors
    operators.py   + - < x[i] += for-in *f with Skywriting's semantics
    values.py      kinds of values, their text (JSON), the unbound sentinel, the result
    errors.py      SkywritingError; a Python error located at the script's line
    lib/*.sw       the standard library for `include` (mapreduce, stdinout, sync, grab)

A script and every file it includes travel as one *bundle* (the program's source, hashed like
any module's): `bundle(path)` builds it on the client, `to_python(source, filename)` compiles
it on whichever node needs it. The language: docs/skywriting.md.
"""

from __future__ import annotations

import ast
import json
import linecache
import os
import re

from swarm.compiler import CompileError, register_translator
from swarm.skywriting.errors import SkywritingError
from swarm.skywriting.syntax import parse
from swarm.skywriting.translate import translate
from swarm.skywriting.tree import Include, Node, Statement, children

LIBRARY = os.path.join(os.path.dirname(__file__), "lib")
STANDARD = ("mapreduce", "stdinout", "sync", "grab")
_MAGIC = "//sw-bundle 1\n"
SESSION = "//sw-session "  # the last line of a console entry: the session's variable names

__all__ = ["SkywritingError", "bundle", "error_text", "interrupt_text", "to_python"]


def error_text(error: str) -> str:
    """A script's error as a program outcome carries it, shown as `file:line:col: message`
    (without the exception's class name)."""
    return error.removeprefix("SkywritingError: ").removeprefix("CompileError: ")


_FRAME = re.compile(r'  File "(?P<file>[^"]+\.sw)", line (?P<line>\d+), in (?P<name>\S+)'
                    r'(?: \[(?P<node>[^\]]+)\])?$')


def interrupt_text(error: str, traceback: str) -> str:
    """How a script stopped by Ctrl-C (or SIGTERM) ends, as its errors are shown: the line
    of the script it was stopped at, from the cancelled program's traceback -
    `s.sw:3:40: KeyboardInterrupt: cancelled - the script stopped here (in spin, on n1)`;
    `error` alone if no frame of a script is in it."""
    found = None
    lines = traceback.splitlines()
    for i, text in enumerate(lines):
        m = _FRAME.match(text)
        if m:
            found = (m, i)
    if found is None:
        return error
    m, i = found
    line, col = int(m["line"]), 1
    shown = lines[i + 1:i + 3]  # the source line, stripped, and its carets
    if len(shown) == 2 and "^" in shown[1]:
        source = linecache.getline(m["file"], line)
        col = shown[1].index("^") - 4 + len(source) - len(source.lstrip()) + 1
    name = m["name"]
    inside = "at its top level" if name in ("_sk_main", "<module>") else \
        f"in {name.removeprefix('v_')}"
    on = f", on {m['node']}" if m["node"] else ""
    return f"{m['file']}:{line}:{col}: {error} - the script stopped here ({inside}{on})"


def _include_path(name: str, including: str) -> str:
    if name in STANDARD:
        return os.path.join(LIBRARY, name + ".sw")
    return os.path.normpath(os.path.join(os.path.dirname(including), name))


def bundle(path: str, text: str | None = None) -> str:
    """The script at `path` (or `text`, named `path`: a console entry) with every file it
    includes (transitively), as one source text."""
    files: dict[str, str] = {}
    todo: list[tuple[str, str | None]] = [(os.path.abspath(path), text)]
    while todo:
        current, known = todo.pop()
        if current in files:
            continue
        if known is None:
            try:
                with open(current, encoding="utf-8") as f:
                    known = f.read()
            except OSError as e:
                raise SkywritingError(f"cannot read {current}: {e.strerror}") from None
            except UnicodeDecodeError as e:  # (where, as CPython says it of a .py file)
                raise SkywritingError(f"{current}:{_line_col(e)}: not UTF-8 text (byte "
                                      f"0x{e.object[e.start]:02x}): a Skywriting script is "
                                      f"read as UTF-8") from None
        files[current] = known
        for node in _includes(parse(known, current)):
            todo.append((_include_path(node.library, current), None))
    parts = [_MAGIC]
    for name, body in files.items():
        parts.append(f"//sw-file {len(body)} {name}\n{body}\n")
    return "".join(parts)


def _line_col(e: UnicodeDecodeError) -> str:
    """line:col (both from 1) of the first byte that did not decode."""
    before = e.object[:e.start]
    line, col = before.count(b"\n") + 1, e.start - before.rfind(b"\n")
    return f"{line}:{col}"


def _includes(body: list[Statement]):
    """The include statements anywhere in these statements (in nested functions too)."""
    todo: list[Node] = list(body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, Include):
            yield node
        todo[:0] = children(node)


def _unbundle(source: str, filename: str) -> dict[str, str]:
    if not source.startswith(_MAGIC):
        return {filename: source}
    files, at = {}, len(_MAGIC)
    while at < len(source):
        end = source.index("\n", at)
        _, size, name = source[at:end].split(" ", 2)
        start = end + 1
        files[name] = source[start:start + int(size)]
        at = start + int(size) + 1
    return files


def to_python(source: str, filename: str) -> ast.Module:
    """A script (or bundle) -> the Python module the continuation compiler takes."""
    files = _unbundle(source, filename)
    main_name = next(iter(files))
    parsed: dict[str, list[Statement]] = {}

    def parsed_file(name: str) -> list[Statement]:
        if name not in parsed:
            parsed[name] = parse(files[name], name)
        return parsed[name]

    def includes(node: Include) -> list[Statement]:
        origin = node_origin.get(id(node), main_name)
        name = _include_path(node.library, origin)
        if name not in files:
            if node.library in STANDARD:  # not bundled (a script compiled straight from its file)
                with open(name, encoding="utf-8") as f:
                    files[name] = f.read()
            else:
                raise SkywritingError(f"cannot include {node.library!r}: {name} was not found",
                                      origin, node.line, node.col)
        body = parsed_file(name)
        for n in _includes(body):
            node_origin[id(n)] = name
        return body

    node_origin: dict[int, str] = {}
    last = files[main_name].rstrip("\n").rpartition("\n")[2]
    session = json.loads(last[len(SESSION):]) if last.startswith(SESSION) else None
    return translate(parsed_file(main_name), main_name, includes, session)


def _translate_for_compiler(source: str, filename: str) -> ast.Module:
    """The `.sw` translator the continuation compiler calls (registered below): Skywriting
    calls the compiler, never the reverse."""
    try:
        return to_python(source, filename)
    except SkywritingError as e:
        raise CompileError(e.message, e.filename or filename, e.line, e.col) from None


register_translator(".sw", _translate_for_compiler)
