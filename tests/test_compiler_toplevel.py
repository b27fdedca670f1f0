"""A module's top level compiled: the compiler's temporaries are not globals the program
sees (compiler/hiding.py), and `from m import *` after a point compiles into the module's
resumer (a function, where CPython refuses it). The corpus program
100_toplevel_temps_hidden.py runs both migrated at every point, in another process."""

import re
import textwrap
import types

from swarm.compiler import registry
from swarm.compiler.pipeline import compile_module

#: the compiler's names, less those an `except ... as` it made binds (a name, not a target:
#: CPython deletes it when the handler is left - hiding.py)
TEMP = re.compile(r"_sw_(?!w?exc\d)\w+")

TOP_LEVEL = textwrap.dedent('''
    from swarm import checkpoint
    SEEN = []
    def step(x):
        checkpoint()
        SEEN.append(sorted(globals()))
        return x + 1
    total = step(1) + step(2)
    rows = [step(i) for i in range(3)]
    for i in range(2):
        total += step(i) * step(i)
    with open(__file__) as f:
        first = step(len(f.readline()))
    SEEN.append(dir())
    SEEN.append(sorted(vars()))
''')


def _run(source, tmp_path, name="top_mod"):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return registry.load_module(str(path), name, register_in_sys=False)


def test_top_level_temporaries_are_not_globals(tmp_path):
    module = _run(TOP_LEVEL, tmp_path)
    assert module.total == 2 + 3 + 1 + 4 and module.rows == [1, 2, 3]
    leaked = {name for seen in module.SEEN for name in seen if TEMP.fullmatch(name)}
    leaked |= {name for name in vars(module) if TEMP.fullmatch(name)}
    leaked |= {name for name in dir(module) if TEMP.fullmatch(name)}
    assert not leaked
    # what CPython's own module shows, less the runtime's dunders
    plain = types.ModuleType("top_mod")
    plain.__file__ = str(tmp_path / "top_mod.py")
    exec(compile(TOP_LEVEL, plain.__file__, "exec"), plain.__dict__)
    assert [[n for n in seen if not n.startswith("__")] for seen in module.SEEN] == \
        [[n for n in seen if not n.startswith("__")] for seen in plain.SEEN]


def test_the_module_resumer_sees_the_module_namespace():
    """dir(), vars() and locals() at the top level of the module's resumer (a function) are
    the module's, as in its code."""
    compiled = compile_module(TOP_LEVEL, "top.py", "top", resumers=True)
    resumer, = {c for c in compiled.resumers.values() if c.co_name == "<module>"}
    names = set(resumer.co_names)
    assert "__swarm_module__" in names and "dir" in names
    assert not {n for n in resumer.co_names if TEMP.fullmatch(n)}


STAR = textwrap.dedent('''
    from swarm import checkpoint
    checkpoint()
    from os.path import *
    try:
        from posixpath import *
    except ImportError:
        pass
    checkpoint()
    J = join("a", basename("x/b"))
''')


def test_star_import_after_a_point_builds_resumers(tmp_path):
    compiled = compile_module(STAR, "star.py", "star", resumers=True)
    assert compiled.resumers
    module = _run(STAR, tmp_path, "star_mod")
    assert module.J == "a/b" and module.splitext("a.b") == ("a", ".b")
