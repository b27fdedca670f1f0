"""Fingerprints of what the compiler makes, to prove a change to it changes nothing emitted.

For each source - the pyperformance benchmark files, the differential corpus, the examples,
the conformance harness, bench's programs and 49 standard-library modules (263 in all on
2026-12-08) - a hash of the module's code and every resumer (marshalled), its points, sites,
temp names, callees, generators and live temps, compiled with resumers and live temps at
once; and a second hash with them built lazily afterwards (pipeline.build_live_temps,
build_resumers), as a process that resumes a frame builds them. A source the compiler
refuses is recorded by its error.

    python -m bench.compile_fingerprint before.json     # on the old compiler
    python -m bench.compile_fingerprint after.json      # on the new one
    cmp before.json after.json                          # or diff: the sources that differ

About 20 s of CPU. (Marshalled bytes depend on reference counts - marshal shares an object
it sees referenced twice - so a change that keeps a compiled name alive elsewhere, say in a
reference cycle the paused collector has not freed, can show as a difference: look before
concluding.)
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STDLIB = ["_pydecimal", "typing", "argparse", "pickle", "pathlib", "json/encoder",
          "json/decoder", "base64", "textwrap", "string", "dataclasses", "enum", "functools",
          "collections/__init__", "fractions", "heapq", "bisect", "copy", "pprint", "shlex",
          "statistics", "difflib", "ast", "tokenize", "csv", "calendar", "configparser",
          "inspect", "logging/__init__", "xml/etree/ElementTree", "email/message",
          "urllib/parse", "random", "tarfile", "zipfile", "gettext", "optparse", "locale",
          "glob", "fnmatch", "ipaddress", "datetime", "_strptime", "selectors", "threading",
          "queue", "contextlib", "weakref", "sre_parse", "re/_parser"]


def sources() -> dict[str, Path]:
    """name -> file: a name that does not depend on where the tree is (the file name is in
    the code objects, so it is the name the source is compiled under)."""
    from tests.conformance.suite import benchmarks_dir

    out: dict[str, Path] = {}
    bench_dir = benchmarks_dir()
    for p in sorted(bench_dir.glob("bm_*/*.py")):
        out[f"pyperformance/{p.relative_to(bench_dir)}"] = p
    for pattern in ("tests/corpus/*.py", "examples/**/*.py", "tests/conformance/*.py",
                    "bench/programs/*.py"):
        for p in sorted(ROOT.glob(pattern)):
            out[str(p.relative_to(ROOT))] = p
    std = Path(sysconfig.get_paths()["stdlib"])
    for m in STDLIB:
        if (std / f"{m}.py").exists():
            out[f"stdlib/{m}.py"] = std / f"{m}.py"
    return out


def fingerprint(path: str, file: Path, i: int) -> str:
    """The two hashes of the source in `file`, compiled under the file name `path`."""
    from swarm.compiler import pipeline

    source = file.read_text()
    try:
        c = pipeline.compile_module(source, path, f"fp{i}", resumers=True)
    except Exception as e:  # noqa: BLE001 - what the compiler refuses is a fingerprint too
        return f"ERR {type(e).__name__} {str(e)[:200]}"
    h = hashlib.sha256(marshal.dumps(c.code))
    for p in sorted(c.resumers):
        h.update(str(p).encode())
        h.update(marshal.dumps(c.resumers[p]))
    for part in (c.points, c.sites, c.temp_names, c.callees, c.gens):
        h.update(repr(sorted(part.items(), key=repr)).encode())
    h.update(repr(sorted((k, sorted(v)) for k, v in c.live_temps.items())).encode())
    lazy = pipeline.compile_module(source, path, f"fq{i}")
    h2 = hashlib.sha256(marshal.dumps(lazy.code))
    live = pipeline.build_live_temps(lazy)
    h2.update(repr(sorted((k, sorted(v)) for k, v in live.items())).encode())
    resumers = pipeline.build_resumers(lazy)
    for p in sorted(resumers):
        h2.update(str(p).encode())
        h2.update(marshal.dumps(resumers[p]))
    return f"{h.hexdigest()} {h2.hexdigest()}"


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m bench.compile_fingerprint OUT.json")
    out = {name: fingerprint(name, file, i) for i, (name, file) in enumerate(sources().items())}
    Path(argv[0]).write_text(json.dumps(out, indent=0, sort_keys=True))
    errors = sum(1 for v in out.values() if v.startswith("ERR"))
    print(f"{len(out)} sources, {errors} refused")


if __name__ == "__main__":
    main()
