"""One capture handler per function (issue 15 item 17): the handler finds its point from the
instruction a capture passed, by the position the compiler predicted CPython gives it
(anf.Linearizer.site, stackcheck.site_offsets). If a CPython release placed an instruction
elsewhere, points would not be found and captures would stop migrating: these tests compare
the prediction with the bytecode for every point of the differential corpus
(tests/corpus/94_capture_sites.py migrates through each kind of site, in another process)."""

import dis
from pathlib import Path
from types import CodeType

import pytest

from swarm.compiler.pipeline import compile_module
from swarm.continuation.stackcheck import site_offsets

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.py"))


def _codes(code: CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


def _all_codes(compiled):
    seen = {}
    for top in [compiled.code, *compiled.all_resumers().values()]:
        for code in _codes(top):
            seen[id(code)] = code
    return seen.values()


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_every_point_with_a_site_is_found_in_the_bytecode(path):
    compiled = compile_module(path.read_text(), str(path), "m_" + path.stem)
    found: dict[int, set[str]] = {}
    for code in _all_codes(compiled):
        for point, kind in site_offsets(code, compiled).values():
            found.setdefault(point, set()).add(kind)
    missing = sorted(set(compiled.sites.values()) - set(found))
    assert not missing, f"points whose instruction is not where the compiler said: {missing}"
    # a resumer of a function with a call point holds the call of the next record's resumer
    calls = [p for p in compiled.sites.values() if p not in compiled.gens]
    if calls:
        assert any("resumed" in kinds for kinds in found.values())


def test_a_function_has_one_handler_whatever_its_points():
    source = "def f(g, h):\n" + "".join(f"    x{i} = g(h{i})\n" for i in range(40)) + \
        "    return x0\n"
    compiled = compile_module(source, "<many>", "m_many")
    (fn,) = [c for c in compiled.code.co_consts if isinstance(c, CodeType)]
    handlers = [i for i in dis.get_instructions(fn) if i.argval == "on_capture_at"]
    assert len(handlers) == 1
    assert not [i for i in dis.get_instructions(fn) if i.argval == "on_capture"]
    assert len(set(compiled.sites.values())) == 40


NEXT_MANY_TIMES = '''
from swarm import checkpoint


def gen():
    for i in range(30):
        checkpoint()
        yield i


def main():
    g = gen()
    total = 0
    for _ in range(30):
        total += next(g)
    return total


print(main())
'''


def test_a_next_point_is_found_once_cpython_specialized_its_call(tmp_path):
    """Run thirty times, `next(g)` is specialized by CPython 3.11 (PRECALL_NO_KW_BUILTIN_FAST
    makes the call in the PRECALL): the generator then sees its caller stopped at the PRECALL,
    which is the point's site too - without it the fifth hop on was refused as C code calling
    back (strict: NotMigratable; else fetched instead)."""
    from swarm.driver import run_migrating

    path = tmp_path / "next_many_times.py"
    path.write_text(NEXT_MANY_TIMES)
    outcome = run_migrating(str(path), strict=True)
    assert outcome.error is None, outcome.error
    assert "".join(outcome.stdout).strip() == "435"
    assert outcome.suspensions == 30
