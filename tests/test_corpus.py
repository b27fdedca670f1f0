"""Differential test corpus: every program in tests/corpus/ must behave identically when run
natively and when run under the migrating driver (captured, pickled and resumed at every
suspension point), optionally with every resume in a fresh OS process.

Each corpus program starts with `from swarm import checkpoint`, prints deterministic output and
ends by assigning the module global RESULT. Programs whose second line is `# subprocess` are also
run with subprocess=True.
"""

from pathlib import Path

import pytest

from swarm.driver import run_migrating, run_native

CORPUS_DIR = Path(__file__).parent / "corpus"
PROGRAMS = sorted(CORPUS_DIR.glob("*.py"))


def _is_subprocess_program(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    return len(lines) > 1 and lines[1].strip() == "# subprocess"


SUBPROCESS_PROGRAMS = [p for p in PROGRAMS if _is_subprocess_program(p)]


def _first_difference(expected, got):
    """A short description of where two outputs first differ (for readable failures)."""
    exp_lines, got_lines = expected.splitlines(), got.splitlines()
    for i, (e, g) in enumerate(zip(exp_lines, got_lines, strict=False)):
        if e != g:
            return "line %d: expected %r, got %r" % (i + 1, e, g)
    if len(exp_lines) != len(got_lines):
        return "expected %d lines, got %d lines" % (len(exp_lines), len(got_lines))
    return "outputs differ only in trailing whitespace/newlines"


def _check(path, **kwargs):
    native = run_native(str(path))
    assert native.error is None, "corpus program crashes natively: %s" % native.error
    migrated = run_migrating(str(path), **kwargs)
    assert migrated.error == native.error, "migrated run raised: %s" % migrated.error
    assert migrated.stdout == native.stdout, _first_difference(native.stdout, migrated.stdout)
    assert migrated.result == native.result
    assert migrated.suspensions > 0


def test_corpus_is_present():
    assert len(PROGRAMS) >= 48
    assert SUBPROCESS_PROGRAMS


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_migrating_matches_native(path):
    _check(path)


@pytest.mark.parametrize("path", SUBPROCESS_PROGRAMS, ids=[p.name for p in SUBPROCESS_PROGRAMS])
def test_migrating_in_subprocesses_matches_native(path):
    _check(path, subprocess=True)
