"""The `swarm` command.

    swarm up [--nodes N] [--dir D] [--curve]
                                     start a local cluster that keeps running (default 3 nodes
                                     in ./.swarm): writes D/cluster.toml, a log and a pid
                                     file per node; restarts the nodes of an existing D
    swarm keys [--cluster FILE | --dir D] [--rotate]
                                     add CURVE keys to a cluster file (a keypair per node,
                                     one for the clients; a secret if it has none);
                                     --rotate: new keys and a new secret
    swarm down [--dir D | --cluster FILE]
                                     stop it; the cluster file and the stores are kept
    swarm run FILE.py [args] [--cluster FILE | --dir D | --nodes N] [--policy P] [--strict]
                  [--show-node] [--trace]
                                     run a program on a cluster: FILE, D/cluster.toml, N
                                     temporary local nodes, else ./.swarm/cluster.toml if it
                                     exists, else 3 temporary local nodes
    swarm sw [--cluster FILE | --dir D | --nodes N]
                                     an interactive Skywriting console (cluster as for run)
    swarm place [--dry-run] [--plot FILE.png] [--cluster FILE | --dir D]
                                     run the placer: arrange the Refs by their access graph
                                     so programs hop less; prints the moves and the hops saved
    swarm status [--cluster FILE | --dir D]
                                     a table per node: Refs, bytes, programs, hops, fetches,
                                     fallbacks, refusals (default cluster: ./.swarm)
    swarm check FILE.py              list every place where the program could not migrate
    swarm migrate FILE.py [-p] [--strict]
                                     run FILE.py with a capture + pickle + resume at every
                                     suspension point (-p: every resume in another process;
                                     --strict: a place that cannot migrate is an error)
"""

from __future__ import annotations

import argparse
import contextlib
import os
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
    from swarm.compiler import CompileError
    from swarm.driver import run_migrating

    try:
        outcome = run_migrating(args.file, subprocess=args.processes, strict=args.strict)
    except CompileError as e:
        print(f"CompileError: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(outcome.stdout)
    sys.stdout.flush()
    fell_back = f", {outcome.fallbacks} times not migrating" if outcome.fallbacks else ""
    print(f"[swarm] {outcome.suspensions} migrations{fell_back}, {outcome.bytes_sent} bytes",
          file=sys.stderr)
    if outcome.error:
        print(outcome.error, file=sys.stderr)
        return 1
    return 0


def _cluster_path(args) -> str | None:
    """The cluster file the command names: --cluster FILE, --dir D, or ./.swarm's if any."""
    from swarm.localcluster import DEFAULT_DIR, cluster_file

    if args.cluster:
        return args.cluster
    if args.dir:
        return cluster_file(args.dir)
    default = cluster_file(DEFAULT_DIR)
    return default if os.path.exists(default) else None


def _connect(path: str):
    """A client of a running cluster, or None after saying why there is none."""
    from swarm.client import ClusterTimeout, connect

    if not os.path.exists(path):
        print(f"swarm: no cluster file {path} (`swarm up` starts a local cluster)",
              file=sys.stderr)
        return None
    try:
        return connect(path, timeout=10.0)
    except ClusterTimeout as e:
        print(f"swarm: the cluster of {path} is not running: {e} (`swarm up --dir "
              f"{os.path.dirname(path) or '.'}` starts it)", file=sys.stderr)
        return None


def _running_cluster(args, command: str):
    """A client of the running cluster that `swarm COMMAND` names, or None after saying why
    there is none."""
    path = _cluster_path(args)
    if path is None:
        print(f"swarm {command}: no running cluster (give --cluster FILE or --dir D)",
              file=sys.stderr)
        return None
    return _connect(path)


@contextlib.contextmanager
def _cluster_for(args):
    """The cluster of `swarm run` and `swarm sw`: N temporary local nodes (--nodes N, or no
    cluster named or found), stopped at the end; else the running cluster of --cluster, --dir
    or ./.swarm; None (after saying why) if that one is not running."""
    from swarm.client import local_cluster

    path = None if args.nodes else _cluster_path(args)
    if path is None:
        cluster = local_cluster(args.nodes or 3)
    elif (cluster := _connect(path)) is None:
        yield None
        return
    try:
        yield cluster
    finally:
        if path:
            cluster.close()
        else:
            cluster.shutdown()


def _run(args) -> int:
    from swarm.skywriting import SkywritingError

    skywriting = args.file.endswith(".sw")
    if args.detach and not _cluster_path(args):
        print("swarm run --detach: the program needs a cluster that keeps running (give "
              "--cluster FILE or --dir D, or start one with swarm up)", file=sys.stderr)
        return 1
    with _cluster_for(args) as cluster:
        if cluster is None:
            return 1
        options = dict(argv=args.args, hop_checkpoints=args.hop_checkpoints,
                       policy=args.policy, strict=args.strict, trace=args.trace,
                       env=_pairs(args.env, "--env"),
                       packages=_pairs(args.package, "--package"))
        try:
            if args.detach:
                program = cluster.submit(args.file, **options)
                cluster.confirm(program)  # written on its node: it runs whatever happens here
                print(program)
                print(f"its output: swarm result {program} --cluster "
                      f"{cluster.config.path}", file=sys.stderr)
                return 0
            outcome = cluster.run_file(args.file, echo=True, **options)
        except SkywritingError as e:
            print(e, file=sys.stderr)
            return 1
    return _report(args, outcome, skywriting)


def _result(args) -> int:
    from swarm.client import ClusterTimeout

    if (cluster := _running_cluster(args, "result")) is None:
        return 1
    try:
        outcome = cluster.wait(args.program, timeout=args.timeout, echo=True)
    except ClusterTimeout as e:
        print(f"swarm result: {e}", file=sys.stderr)
        return 1
    finally:
        cluster.close()
    args.show_node = args.trace = False
    return _report(args, outcome, False)


def _report(args, outcome, skywriting: bool) -> int:
    """After the output: the route, the trace, the error or (Skywriting) the result."""
    from swarm.skywriting import error_text
    from swarm.skywriting.runtime import to_json

    if args.show_node:
        print(f"[swarm] ran on {' -> '.join(outcome.route)}", file=sys.stderr)
    if args.trace:
        print_trace(outcome.trace, sys.stderr)
    if skywriting:  # the error, located in the script; else the result as JSON
        if outcome.error:
            print(error_text(outcome.error), file=sys.stderr)
            return 1
        print(to_json(outcome.value))
        return 0
    if outcome.error:
        sys.stderr.write(outcome.traceback or outcome.error + "\n")
        return 1
    return 0


def _sw(args) -> int:
    from swarm.skywriting.console import Console, interact

    with _cluster_for(args) as cluster:
        if cluster is None:
            return 1
        try:
            return interact(Console(cluster))
        except KeyboardInterrupt:
            return 130


def _place(args) -> int:
    from cluster.apply import place
    from cluster.placer import describe
    from swarm.client import ClusterTimeout

    if (cluster := _running_cluster(args, "place")) is None:
        return 1
    try:
        plan = place(cluster, dry_run=args.dry_run, balance=args.balance, plot=args.plot,
                     min_gain=args.min_gain)
    except ClusterTimeout as e:
        print(f"swarm place: {e}", file=sys.stderr)
        return 1
    finally:
        cluster.close()
    print(describe(plan))
    if args.dry_run:
        print("(dry run: nothing moved)")
    elif plan.moves and not plan.worth(args.min_gain):
        print(f"(saves less than {args.min_gain:g} of the cut weight: nothing moved)")
    if args.plot:
        print(f"plot: {args.plot}")
    return 0


def _pairs(items, option: str) -> dict:
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"swarm run: {option} takes KEY=VALUE, not {item!r}")
        out[key] = value
    return out


def print_trace(hops: list[dict], out) -> None:
    """The hop timeline: one line per hop, in the order they left."""
    print(f"[swarm] {len(hops)} hops", file=out)
    if not hops:
        return
    t0 = hops[0]["at"]
    print(f"{'ms':>9}  {'program':<28} {'from':>5} -> {'to':<5} {'bytes':>9} {'us':>8}  why",
          file=out)
    for h in hops:
        print(f"{(h['at'] - t0) * 1e3:9.2f}  {h['program'][-28:]:<28} {h['from']:>5} -> "
              f"{h['to']:<5} {h['bytes']:>9} {h['us']:>8}  {h['why']}", file=out)


def _status(args) -> int:
    from swarm.client import Cluster
    from swarm.node.config import ClusterConfig

    path = _cluster_path(args)
    if path is None or not os.path.exists(path):
        print(f"swarm: no cluster file {path or '.swarm/cluster.toml'}: give --cluster FILE "
              f"or --dir D (`swarm up` starts a local cluster)", file=sys.stderr)
        return 1
    config = ClusterConfig.load(path)
    cluster = Cluster(config)
    try:
        rows = {row["node"]: row for row in cluster.status()}
    finally:
        cluster.close()
    cols = ["node", "refs", "bytes", "running", "parked", "hops_in", "hops_out", "fetches",
            "fallbacks", "refused"]
    print("  ".join(f"{c:>8}" for c in cols))
    for name in config.names:
        row = rows.get(name, {"node": name, "refs": "down"})  # did not answer within 5 s
        print("  ".join(f"{row.get(c, ''):>8}" for c in cols))
    return 0 if len(rows) == len(config.names) else 1


def _keys(args) -> int:
    from swarm.node.config import ClusterConfig

    path = _cluster_path(args)
    if path is None or not os.path.exists(path):
        print(f"swarm keys: no cluster file {path or '.swarm/cluster.toml'}: give --cluster "
              f"FILE or --dir D", file=sys.stderr)
        return 1
    config = ClusterConfig.load(path, need_secret=False)
    had_secret = config.secret is not None
    owners = config.add_keys(replace=args.rotate)
    config.save(path)
    print(f"{path}: new CURVE keys for {', '.join(owners)}"
          + ("" if had_secret and not args.rotate else ", and a new secret"))
    print("Nodes use them from their next start: restart them (swarm down / swarm up), after "
          "copying the file (mode 600) to every machine that runs a node or a client.")
    return 0


def _up(args) -> int:
    from swarm.localcluster import UpError, cluster_file, up

    if args.auto_place is not None and args.auto_place < 0:
        print("swarm up: --auto-place takes a number of seconds >= 0", file=sys.stderr)
        return 2
    try:
        config, started = up(args.dir, args.nodes, auto_place=args.auto_place,
                             curve=args.curve)
    except UpError as e:
        print(f"swarm up: {e}", file=sys.stderr)
        return 1
    kept = [name for name in config.names if name not in started]
    for name in started:
        spec = config.nodes[name]
        print(f"{name}: running at {spec.endpoint}, log {os.path.join(args.dir, name)}.log")
    if kept:
        print(f"{', '.join(kept)}: already running, left alone")
    path = cluster_file(args.dir)
    print(f"cluster file: {path}")
    if config.auto_place:
        print(f"{config.names[0]} runs swarm place every {config.auto_place:g} s "
              f"(its log says what moved)")
    print(f"run a program: swarm run FILE.py --cluster {path}; stop: swarm down --dir "
          f"{args.dir}")
    return 0


def _down(args) -> int:
    from swarm.localcluster import down

    path = _cluster_path(args) or ".swarm/cluster.toml"
    for line in down(path):
        print(line)
    if os.path.exists(path):
        print(f"kept {path} and the node stores: `swarm up --dir "
              f"{os.path.dirname(path) or '.'}` starts the cluster again, with its Refs")
    return 0


def _where(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--cluster", help="the cluster file (cluster.toml)")
    where.add_argument("--dir", help="the cluster's directory (default ./.swarm)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="swarm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run FILE.py on a cluster")
    p.add_argument("file")
    p.add_argument("args", nargs="*", help="the program's arguments (after -- if they start "
                                           "with a dash)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--nodes", type=int, help="local nodes to start for this run (default "
                                                 "3, unless ./.swarm holds a cluster)")
    where.add_argument("--cluster", help="a running cluster's file (cluster.toml)")
    where.add_argument("--dir", help="a running cluster's directory (swarm up --dir)")
    p.add_argument("--show-node", action="store_true", help="print the nodes it ran on")
    p.add_argument("--env", action="append", metavar="K=V",
                   help="a Skywriting script's env entry (repeatable)")
    p.add_argument("--package", action="append", metavar="KEY=PATH",
                   help="a file a Skywriting script reads with package(KEY) (repeatable)")
    p.add_argument("--policy", choices=["migrate", "fetch", "auto"], default="migrate",
                   help="touching a remote Ref moves the program (migrate, the default), "
                        "brings the value over (fetch), or whichever moves fewer bytes (auto)")
    p.add_argument("--trace", action="store_true",
                   help="print the hop timeline at the end (to stderr)")
    p.add_argument("--strict", action="store_true",
                   help="a program that cannot migrate fails instead of fetching")
    p.add_argument("--hop-checkpoints", action="store_true",
                   help="every checkpoint() moves the program to the next node (testing)")
    p.add_argument("--detach", action="store_true",
                   help="print the program's id once the cluster has it, and exit; "
                        "`swarm result ID` prints its output later")
    p.set_defaults(func=_run)
    p = sub.add_parser("result", help="wait for a program run with --detach; print its "
                                      "output")
    p.add_argument("program", help="the id `swarm run --detach` printed")
    _where(p)
    p.add_argument("--timeout", type=float, default=600.0,
                   help="seconds to wait for the program's end (default 600)")
    p.set_defaults(func=_result)
    p = sub.add_parser("sw", help="an interactive Skywriting console on a cluster")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--nodes", type=int, help="local nodes to start for the session "
                                                 "(default 3, unless ./.swarm holds a cluster)")
    where.add_argument("--cluster", help="a running cluster's file (cluster.toml)")
    where.add_argument("--dir", help="a running cluster's directory (swarm up --dir)")
    p.set_defaults(func=_sw)
    p = sub.add_parser("place", help="arrange the Refs so programs hop less")
    _where(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan, move nothing")
    p.add_argument("--plot", metavar="FILE.png",
                   help="draw the access graph coloured by node, before and after")
    p.add_argument("--balance", type=float, default=1.1,
                   help="most bytes a node may hold, over the mean (default 1.1)")
    p.add_argument("--min-gain", type=float, default=0.0, metavar="SHARE",
                   help="move only if the plan saves at least this share of the hops "
                        "recorded (default 0: any saving)")
    p.set_defaults(func=_place)
    p = sub.add_parser("status", help="per-node statistics of a running cluster")
    _where(p)
    p.set_defaults(func=_status)
    p = sub.add_parser("up", help="start a local cluster that keeps running")
    p.add_argument("--nodes", type=int, help="how many nodes (default 3; an existing cluster "
                                             "keeps its own)")
    p.add_argument("--dir", default=".swarm", help="its directory (default ./.swarm)")
    p.add_argument("--auto-place", type=float, metavar="SECONDS",
                   help="the first node runs `swarm place` every SECONDS (kept in the "
                        "cluster file; 0 turns it off)")
    p.add_argument("--curve", action="store_true", help="a new cluster gets CURVE keys (every "
                                                        "link encrypted and authenticated)")
    p.set_defaults(func=_up)
    p = sub.add_parser("keys", help="add CURVE keys to a cluster file")
    _where(p)
    p.add_argument("--rotate", action="store_true",
                   help="replace the keys and the secret (every node must be restarted)")
    p.set_defaults(func=_keys)
    p = sub.add_parser("down", help="stop a cluster started by swarm up")
    _where(p)
    p.set_defaults(func=_down)
    p = sub.add_parser("check", help="list the places where FILE.py could not migrate")
    p.add_argument("file")
    p.set_defaults(func=_check)
    p = sub.add_parser("migrate", help="run FILE.py migrating at every suspension point")
    p.add_argument("file")
    p.add_argument("-p", "--processes", action="store_true",
                   help="resume in another OS process at every suspension point")
    p.add_argument("--strict", action="store_true",
                   help="a place where the program cannot migrate is an error (NotMigratable) "
                        "instead of a warning after which it goes on without moving")
    p.set_defaults(func=_migrate)
    argv = sys.argv[1:] if argv is None else list(argv)
    rest: list[str] = []
    if "--" in argv:  # what follows `--` is the program's, wherever the options are
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    if rest:
        if args.command != "run":
            parser.error("arguments after -- are for `swarm run` programs")
        args.args += rest
    from swarm.node.config import ConfigError

    try:
        return args.func(args)
    except ConfigError as e:  # an unusable cluster file: say why, no traceback
        print(f"swarm: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
