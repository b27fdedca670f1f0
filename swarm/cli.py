"""The `swarm` command.

    swarm check FILE.py            list every place where the program could not migrate
    swarm migrate FILE.py [-p]     run FILE.py with a capture + pickle + resume at every
                                   suspension point (-p: every resume in another process)
"""

from __future__ import annotations

import argparse
import sys


def _check(args) -> int:
    from swarm.compiler.check import check_file

    findings = check_file(args.file)
    for f in findings:
        print(f)
    if not findings:
        print(f"{args.file}: no problems found: every suspension point can migrate")
    return 1 if findings else 0


def _migrate(args) -> int:
    from swarm.driver import run_migrating

    outcome = run_migrating(args.file, subprocess=args.processes)
    sys.stdout.write(outcome.stdout)
    print(f"[swarm] {outcome.suspensions} migrations", file=sys.stderr)
    if outcome.error:
        print(outcome.error, file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="swarm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="list the places where FILE.py could not migrate")
    p.add_argument("file")
    p.set_defaults(func=_check)
    p = sub.add_parser("migrate", help="run FILE.py migrating at every suspension point")
    p.add_argument("file")
    p.add_argument("-p", "--processes", action="store_true",
                   help="resume in another OS process at every suspension point")
    p.set_defaults(func=_migrate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
