"""`python -m bench`: print machine facts, run every section, write bench/results/latest.json."""

from __future__ import annotations

import datetime
import importlib
import json
import os
import platform
import sys
import traceback
from pathlib import Path

SECTIONS = ["bench.versus", "bench.compiled", "bench.continuation", "bench.carried", "bench.hops",
            "bench.bigdata", "bench.skyfib", "bench.placement", "bench.kv", "bench.web",
            "bench.load", "bench.trouble", "bench.isolation", "bench.atomic", "bench.gc",
            "bench.grow", "bench.shrink"]

RESULTS = Path(__file__).resolve().parent / "results"


def machine_facts() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist, module in (
        ("dill", "dill"),
        ("greenlet", "greenlet"),
        ("pyzmq", "zmq"),
        ("networkx", "networkx"),
    ):
        try:
            versions[dist] = getattr(importlib.import_module(module), "__version__", "?")
        except ImportError:
            versions[dist] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def main() -> int:
    facts = machine_facts()
    print(
        f"machine: {facts['cpu']}, {facts['cores']} cores, "
        f"{facts['implementation']} {facts['python']}, {facts['platform']}"
    )
    print("packages: " + ", ".join(f"{k} {v or 'absent'}" for k, v in facts["packages"].items()))
    print(f"date: {facts['date']}")
    report: dict = {"machine": facts, "sections": {}}
    failed = False
    for section in SECTIONS:
        print(f"\n== {section} ==")
        try:
            result = importlib.import_module(section).main()
            report["sections"][section] = result
            failed = failed or bool(isinstance(result, dict) and result.get("errors"))
        except Exception as exc:
            failed = True
            traceback.print_exc()
            report["sections"][section] = {"error": f"{type(exc).__name__}: {exc}"}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "latest.json"
    out.write_text(json.dumps(report, indent=2, default=repr) + "\n")
    print(f"\nwrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
