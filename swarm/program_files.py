"""What a program ships to the cluster: its script and the modules of its own it imports.

    files = program_files("job/main.py")     # [SourceFile] : the script first, then modules
    text = read_source("legacy.py")          # any encoding Python accepts (PEP 263)

The nodes need not have the user's files. The client sends the script's source and the source
of every module of the user's that the script imports - directly or through another such
module, at any depth - found from the `import` statements themselves (anywhere in a module:
top level, functions, `try` blocks; relative imports inside packages included). A module is
the user's when Python, run on the script, would find it in the script's directory (Python's
`sys.path[0]`): a `name.py` file or a package (a directory with `__init__.py`) and its
submodules. Nothing the script does not import is read or shipped; the standard library and
installed packages are imported on the nodes as they are.

Discussion: what discovery cannot see. An import computed at run time (`importlib.
import_module(name)`, `__import__`) names no module in the source; such a module is not
shipped and its import fails on the node with ModuleNotFoundError. A plain `import name`
anywhere in the script (even in a function never called) ships it. A directory without
`__init__.py` (a namespace package) is not shipped either. Files are read as Python reads
them: a PEP 263 coding cookie or a UTF-8 BOM decides the encoding, UTF-8 otherwise; a file
that does not decode raises SourceError with Python's own message.
"""

from __future__ import annotations

import _imp
import dis
import io
import os
import re
import sys
import tokenize
from dataclasses import dataclass
from types import CodeType

from swarm.compiler.registry import source_hash
from swarm.wire.kinds import RUNTIME_PACKAGES  # the node's own: such files are not shipped


class SourceError(Exception):
    """A program file that cannot be read or parsed. `lines` is what Python itself would
    print for it (a SyntaxError with its caret, or an I/O error), without a traceback."""

    def __init__(self, lines: str) -> None:
        super().__init__(lines.rstrip("\n"))
        self.lines = lines if lines.endswith("\n") else lines + "\n"


@dataclass(frozen=True)
class SourceFile:
    """One file a program ships: its module name (`__main__` for the script), its path and
    its text."""

    name: str
    path: str
    text: str

    @property
    def is_package(self) -> bool:
        return os.path.basename(self.path) == "__init__.py"


def read_source(path: str) -> str:
    """The text of a Python source file, decoded as Python decodes it: a PEP 263 coding
    cookie or a BOM says the encoding, else UTF-8; newlines made universal. Raises
    SourceError with Python's message if the encoding is unknown or the bytes are not valid
    in it."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:
        if "unknown encoding" in str(e):
            raise SourceError(f"SyntaxError: encoding problem: "
                              f"{str(e).rsplit(': ', 1)[-1]}") from None
        encoding = "utf-8"  # undecodable first lines and no cookie: found below
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        bad = data[e.start:e.start + 1].hex()
        if encoding == "utf-8" and not _declares_encoding(data):
            raise SourceError(f"SyntaxError: Non-UTF-8 code starting with '\\x{bad}' in file "
                              f"{path} on line {line}, but no encoding declared; see "
                              f"https://peps.python.org/pep-0263/ for details") from None
        raise SourceError(f"SyntaxError: (unicode error) {e} (in file {path} on line "
                          f"{line})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _declares_encoding(data: bytes) -> bool:
    return any(re.match(rb"^[ \t\f]*#.*?coding[:=]", line)
               for line in data.splitlines()[:2])


def compiled(text: str, path: str) -> CodeType:
    """The file compiled by CPython (to bytecode: the imports are read from it); a
    SyntaxError becomes SourceError with Python's own lines (`File "...", line N`, the
    source line, the caret, the message).

    Discussion: why bytecode and not `ast.parse`. CPython 3.11 counts the depth of the AST
    objects it builds in one counter per interpreter, not per thread: two threads parsing at
    once (a client in a thread of a program that parses too - hypothesis does) may fail
    with "SystemError: AST constructor recursion depth mismatch" (cpython gh-106905).
    `compile()` to bytecode builds no AST objects. It also rejects what Python rejects when
    it runs a file (`return` outside a function), which `ast.parse` lets through."""
    try:
        return compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        import traceback

        raise SourceError("".join(traceback.format_exception_only(e))) from None


def _preloaded(name: str) -> bool:
    """A module Python finds before the script's directory (built in, or frozen)."""
    return name in sys.builtin_module_names or _imp.is_frozen(name)


class _Finder:
    """Finds module names under one root directory the way Python's path finder does for
    sys.path[0]: `a/b/c.py` or `a/b/c/__init__.py`, every parent a regular package."""

    def __init__(self, root: str) -> None:
        self.root = root

    def find(self, name: str) -> str | None:
        parts = name.split(".")
        if parts[0] in RUNTIME_PACKAGES or (len(parts) == 1 and _preloaded(name)):
            return None
        if not all(p.isidentifier() for p in parts):
            return None
        base = self.root
        for package in parts[:-1]:
            base = os.path.join(base, package)
            if not os.path.isfile(os.path.join(base, "__init__.py")):
                return None
        package_init = os.path.join(base, parts[-1], "__init__.py")
        if os.path.isfile(package_init):
            return package_init  # a package wins over a module of the same name, as in Python
        module = os.path.join(base, parts[-1] + ".py")
        return module if os.path.isfile(module) else None


def imported_names(code: CodeType, module: str, is_package: bool) -> list[str]:
    """Every module name an import statement in the code (and the code nested in it) may
    load, in order: for `import a.b` a and a.b; for `from a import b` a and a.b (b may be a
    submodule); relative imports resolved against `module` (the importing module's name).
    Read from the bytecode: each IMPORT_NAME follows the loads of its level and from-list."""
    names: list[str] = []
    package = module if is_package else module.rpartition(".")[0]
    codes = [code]
    while codes:
        current = codes.pop(0)
        codes.extend(c for c in current.co_consts if isinstance(c, CodeType))
        recent: list = []
        for ins in dis.get_instructions(current):
            if ins.opname != "IMPORT_NAME":
                recent = (recent + [ins.argval])[-2:]
                continue
            level, fromlist = recent if len(recent) == 2 else (0, None)
            target = ins.argval
            if isinstance(level, int) and level > 0:
                parts = package.split(".") if package else []
                if level - 1 > len(parts) or not package:
                    continue  # beyond the top package: Python raises ImportError there
                base = ".".join(parts[:len(parts) - (level - 1)])
                target = f"{base}.{target}" if target else base
            if not target:
                continue
            names.extend(_prefixes(target))
            if isinstance(fromlist, tuple):
                names.extend(f"{target}.{n}" for n in fromlist if n != "*")
    return names


def _prefixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def program_files(path: str, text: str | None = None, roots: list[str] | None = None,
                  name: str = "__main__") -> list[SourceFile]:
    """The script at `path` (or `text`, if given: the script's source named `path`) and every
    module of the user's it imports, transitively: [script, modules...]. Modules are looked
    for in `roots` (default: the script's directory, as Python's sys.path[0]; [] for none). Raises
    SourceError for a file that does not decode or parse (the script, or a module it
    imports: that import would fail the same way under Python)."""
    path = os.path.abspath(path)
    if text is None:
        text = read_source(path)
    if roots is None:
        roots = [os.path.dirname(path)]
    finders = [_Finder(os.path.abspath(r)) for r in roots]
    entry = SourceFile(name, path, text)
    found: dict[str, SourceFile] = {}
    todo = [entry]
    while todo:
        current = todo.pop(0)
        code = compiled(current.text, current.path)
        for imported in imported_names(code, current.name, current.is_package):
            if imported in found or imported == name:
                continue
            for finder in finders:
                where = finder.find(imported)
                if where is not None:
                    found[imported] = SourceFile(imported, where, read_source(where))
                    todo.append(found[imported])
                    break
    return [entry, *found.values()]


class Prepared(tuple):
    """What program_sources returns: (entry hash, sources by hash, modules by name), and
    `files`: each module's file by module name ("__main__": the script) - two files of one
    text share a hash, not a file name."""

    files: dict


def program_sources(path: str, text: str | None = None,
                    roots: list[str] | None = None) -> tuple[str, dict, dict]:
    """The script and the modules of the user's it imports : (entry
    hash, sources by hash, modules by name). `text`: the script's source, if it is not (or
    not yet) the file at `path`; `roots`: where its modules are (default: its directory).
    Raises SourceError (what Python would print) for a file that does not decode or parse.

    A Skywriting script travels with the files it includes, and with the Python modules
    beside it that its `python` executor names ("module:function" strings)."""
    path = os.path.abspath(path)
    if path.endswith(".sw"):
        from swarm.skywriting import bundle

        text = bundle(path, text)
        names = sorted(set(re.findall(r"[\"']([A-Za-z_][\w.]*):", text)))
        stub = "".join(f"import {name}\n" for name in names)  # found like a Python import
        files = [SourceFile("__main__", path, text),
                 *program_files(path, stub, roots)[1:]]
    else:
        files = program_files(path, text, roots)
    sources, modules = {}, {}
    for f in files:
        digest = source_hash(f.text)
        # Discussion: two files of one text (two empty __init__.py, say) share a hash and
        # so an entry; a package's wins, so the node still makes it a package.
        if digest not in sources or f.is_package:
            sources[digest] = (f.name, f.path, f.text)
        if f.name != "__main__":
            modules[f.name] = digest
    prepared = Prepared((source_hash(files[0].text), sources, modules))
    prepared.files = {f.name: f.path for f in files}
    return prepared
