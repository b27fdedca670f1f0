"""The `swarm` command.

    swarm run FILE.py [args] [--nodes N | --cluster FILE] [--policy P] [--strict]
                  [--show-node]
                                   run a program on a cluster (by default 3 local nodes
                                   started for it in a temporary directory)
    swarm status --cluster FILE    a table per node: Refs, bytes, programs, hops, refusals
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


def _run(args) -> int:
    from swarm.client import connect, local_cluster

    cluster = connect(args.cluster) if args.cluster else local_cluster(args.nodes)
    try:
        outcome = cluster.run_file(args.file, echo=True, argv=args.args,
                                   hop_checkpoints=args.hop_checkpoints, policy=args.policy,
                                   strict=args.strict)
    finally:
        if args.cluster:
            cluster.close()
        else:
            cluster.shutdown()
    if args.show_node:
        print(f"[swarm] ran on {' -> '.join(outcome.route)}", file=sys.stderr)
    if outcome.error:
        sys.stderr.write(outcome.traceback or outcome.error + "\n")
        return 1
    return 0


def _status(args) -> int:
    from swarm.client import connect

    cluster = connect(args.cluster)
    try:
        rows = cluster.status()
    finally:
        cluster.close()
    cols = ["node", "refs", "bytes", "running", "parked", "hops_in", "hops_out", "fetches",
            "fallbacks", "refused"]
    print("  ".join(f"{c:>8}" for c in cols))
    for row in rows:
        print("  ".join(f"{row.get(c, ''):>8}" for c in cols))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="swarm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run FILE.py on a cluster")
    p.add_argument("file")
    p.add_argument("args", nargs="*", help="the program's arguments (after -- if they start "
                                           "with a dash)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--nodes", type=int, default=3, help="local nodes to start (default 3)")
    where.add_argument("--cluster", help="a running cluster's file (cluster.toml)")
    p.add_argument("--show-node", action="store_true", help="print the nodes it ran on")
    p.add_argument("--policy", choices=["migrate", "fetch"], default="migrate",
                   help="touching a remote Ref moves the program (migrate, the default) or "
                        "brings the value over (fetch)")
    p.add_argument("--strict", action="store_true",
                   help="a program that cannot migrate fails instead of fetching")
    p.add_argument("--hop-checkpoints", action="store_true",
                   help="every checkpoint() moves the program to the next node (testing)")
    p.set_defaults(func=_run)
    p = sub.add_parser("status", help="per-node statistics of a running cluster")
    p.add_argument("--cluster", required=True)
    p.set_defaults(func=_status)
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
