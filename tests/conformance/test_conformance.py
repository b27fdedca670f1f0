"""A few pyperformance benchmarks under migration, in `make test` (the whole suite: `make
conformance`, several minutes). Skipped where pyperformance is not installed."""

import tempfile
from pathlib import Path

import pytest

pytest.importorskip("pyperformance", reason="the conformance suite runs in make conformance, "
                    "which installs pyperformance")

from tests.conformance.suite import discover, run_one  # noqa: E402

QUICK = ["richards", "deltablue", "go", "coroutines"]


@pytest.mark.parametrize("name", QUICK)
def test_benchmark_gives_native_output_under_migration(name):
    program = next(p for p in discover() if p.name == name)
    with tempfile.TemporaryDirectory(prefix="swarm-conformance-") as tmp:
        outcome = run_one(program, Path(tmp), timeout=240, first=20, stride=500, cap=30)
    assert outcome.status in ("ok", "refused"), (outcome.status, outcome.detail)
    if name == "coroutines":  # async: refused at compile time, by name
        assert outcome.status == "refused" and "async" in outcome.detail
    else:
        assert outcome.migrations > 0 and outcome.fallbacks == 0, outcome
