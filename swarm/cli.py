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
    swarm run [--cluster FILE | --dir D | --nodes N] [--node NAME] [--policy P] [--strict]
              [--show-node] [--trace] [--timeout S] [--detach] FILE [args...]
                                     run a program on a cluster (on node NAME, default
                                     the first): FILE, D/cluster.toml, N
                                     temporary local nodes, else ./.swarm/cluster.toml if it
                                     exists, else 3 temporary local nodes; everything after
                                     FILE is the program's (as for python); exits as python
                                     would (SystemExit's code, 1 on an error, 130 on Ctrl-C)
    swarm result ID [--timeout S]    the output and end of a program run with --detach
    swarm ps [--timeout S]           the programs on a running cluster: id, node, age, state
                                     (what the live nodes say; the others are named)
    swarm cancel ID                  stop a program, as Ctrl-C stops a script
    swarm logs [NODE] [-f] [-n N]    the nodes' logs (-f: and what they log next)
    swarm --version
    swarm sw [--cluster FILE | --dir D | --nodes N]
                                     an interactive Skywriting console (cluster as for run)
    swarm place [--dry-run] [--plot FILE.png [--apply]] [--cluster FILE | --dir D]
                                     run the placer: arrange the Refs by their access graph
                                     so programs hop less; prints the moves and the hops saved;
                                     --plot draws the plan and moves nothing without --apply
    swarm dashboard [--cluster FILE | --dir D] [--port P] [--host H]
                                     a live web page of the cluster: nodes, hop rates, the
                                     access graph (http://127.0.0.1:8700/ by default)
    swarm status [--cluster FILE | --dir D]
                                     a table per node: Refs, bytes, programs, hops, fetches,
                                     fallbacks, refusals (default cluster: ./.swarm)
    swarm node add [NAME] [--endpoint E] [--node-dir D] [--no-start] [--place]
                   [--cluster FILE | --dir D]
                                     a node joins the running cluster (started here unless
                                     --no-start); --place then moves data to it
    swarm node remove NAME [--force] [--place] [--cluster FILE | --dir D]
                                     a node leaves the running cluster: it stops, and its
                                     mirror takes its store (Refs, programs, results)
    swarm node gone NAME [--cluster FILE | --dir D]
                                     declare a node gone for good (fence it): the others
                                     refuse it, programs waiting for it end (NodeGone)
    swarm check FILE.py              list every place where the program could not migrate
    swarm migrate FILE.py [-p] [--strict]
                                     run FILE.py with a capture + pickle + resume at every
                                     suspension point (-p: every resume in another process;
                                     --strict: a place that cannot migrate is an error)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from swarm import cli_programs
from swarm.cli_common import cluster_file_named
from swarm.cli_common import cluster_for as _cluster_for
from swarm.cli_common import cluster_path as _cluster_path
from swarm.cli_common import running_cluster as _running_cluster


def _check(args) -> int:
    from swarm.compiler.check import check_source

    try:
        text = cli_programs.read_script(args.file, "check")
    except cli_programs.ClientMistake as e:
        print(e, file=sys.stderr)
        return e.status
    findings = check_source(text, args.file)
    for f in findings:
        print(f)
    if not findings:
        print(f"{args.file}: no problems found: every suspension point can migrate")
    return 1 if findings else 0


def _migrate(args) -> int:
    from swarm.compiler import CompileError
    from swarm.driver import run_migrating

    try:
        cli_programs.read_script(args.file, "migrate")  # (what it cannot read: one message)
    except cli_programs.ClientMistake as e:
        print(e, file=sys.stderr)
        return e.status
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
    import functools

    from cluster.apply import place
    from cluster.placer import describe
    from cluster.policies import clustered, rebalance
    from swarm.client import ClusterTimeout

    if args.apply and args.dry_run:
        print("swarm place: --apply and --dry-run contradict each other", file=sys.stderr)
        return 2
    # Discussion: --plot is for looking; it carries out the plan only with --apply, so that
    # asking for a picture never moves data by surprise
    plot_only = bool(args.plot) and not args.apply
    if args.plot and not os.path.isdir(os.path.dirname(os.path.abspath(args.plot))):
        print(f"swarm place: cannot write the plot {args.plot}: no directory "
              f"{os.path.dirname(os.path.abspath(args.plot))}", file=sys.stderr)
        return 2
    if (cluster := _running_cluster(args, "place")) is None:
        return 1
    try:
        policy = clustered if not args.rebalance else rebalance if args.max_moves is None \
            else functools.update_wrapper(functools.partial(rebalance, max_moves=args.max_moves),
                                          rebalance)
        plan = place(cluster, dry_run=args.dry_run or plot_only, balance=args.balance,
                     plot=args.plot, min_gain=args.min_gain, policy=policy)
    except ClusterTimeout as e:
        print(f"swarm place: {e}", file=sys.stderr)
        return 1
    finally:
        cluster.close()
    print(describe(plan))
    if args.dry_run:
        print("(dry run: nothing moved)")
    elif plot_only and plan.moves:
        print("(plot only: nothing moved; add --apply to carry out the plan)")
    elif plan.moves and not plan.worth(args.min_gain):
        print(f"(saves less than {args.min_gain:g} of the cut weight: nothing moved)")
    if args.plot:
        print(f"plot: {args.plot}")
    return 0


def _dashboard(args) -> int:
    from swarm.dashboard import serve

    if (path := cluster_file_named(args, "dashboard")) is None:
        return 1
    try:
        serve(path, host=args.host, port=args.port, token=args.token, interval=args.interval)
    except OSError as e:  # the port is taken, the address is not this machine's
        print(f"swarm dashboard: cannot listen on {args.host}:{args.port}: {e.strerror}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


def _status(args) -> int:
    from swarm.client import Cluster
    from swarm.node.config import ClusterConfig

    if (path := cluster_file_named(args, "status")) is None:
        return 1
    config = ClusterConfig.load(path)
    cluster = Cluster(config)
    try:
        rows = {row["node"]: row for row in cluster.status()}
    finally:
        cluster.close()
    cols = ["node", "refs", "bytes", "running", "parked", "hops_in", "hops_out", "fetches",
            "fallbacks", "refused", "copy", "held"]
    print("  ".join(f"{c:>8}" for c in cols))
    for name in config.names:
        row = rows.get(name, {"node": name, "refs": "down"})  # did not answer within 5 s
        if name in config.fenced:  # (removed: its heir has its store; else declared gone)
            row = {"node": name, "refs": f"removed: {config.heirs[name]}"
                   if name in config.heirs else "gone"}
        if "mirror" in row:
            row["copy"] = _copy_cell(row["mirror"])
        if "values" in row:  # large values of programs kept here (docs/nodes.md)
            row["held"] = _bytes_cell(row["values"]["held_bytes"])
        print("  ".join(f"{row.get(c, ''):>8}" for c in cols))
    for name, row in rows.items():
        if row.get("hash_seed_problem"):
            print(f"{name}: {row['hash_seed_problem']}", file=sys.stderr)
    return 0 if all(n in rows for n in config.names if n not in config.fenced) else 1


def _bytes_cell(n: int) -> str:
    """`0`, `12K`, `48M`, `2.1G`: a size in a column of eight."""
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}{unit}" if n < 10 * size else f"{n // size}{unit}"
    return str(n)


def _copy_cell(mirror: dict) -> str:
    """Where the node's store is copied and whether the copy is whole (docs/nodes.md,
    "Copies of a node's store"): `n2`; `n2 down`, `n2 sync`, or `n2 -3` (3 writes not on
    the copy yet); `-` without a mirror."""
    if mirror.get("node") is None:
        return "-"
    if mirror["state"] != "live":
        return f"{mirror['node']} {mirror['state']}"
    missing = max(mirror["seq"] - mirror["have"], mirror.get("exposed", 0))
    return mirror["node"] if missing == 0 else f"{mirror['node']} -{missing}"


def _node_add(args) -> int:
    """swarm node add [NAME]: a node joins the running cluster (swarm/membership.py)."""
    from swarm.client import ClusterTimeout
    from swarm.membership import add
    from swarm.node.config import ConfigError

    if (path := cluster_file_named(args, "node add")) is None:
        return 1
    try:
        add(path, args.name, args.endpoint, args.node_dir, start=not args.no_start,
            timeout=args.timeout, say_place=not args.place)
    except (ConfigError, ClusterTimeout, ValueError) as e:
        print(f"swarm node add: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("swarm node add: interrupted; run it again to finish (each step is safe to "
              "run again)", file=sys.stderr)
        return 130
    if args.place:  # (the fewest moves that balance the bytes: placement proper is later)
        args.apply = args.dry_run = False
        args.plot, args.min_gain, args.rebalance = None, 0.0, True
        return _place(args)
    return 0


def _node_remove(args) -> int:
    """swarm node remove NAME: the node stops and its mirror takes its store
    (swarm/adoption.py)."""
    from swarm.adoption import remove
    from swarm.client import ClusterTimeout
    from swarm.node.config import ConfigError

    if (path := cluster_file_named(args, "node remove")) is None:
        return 1
    try:
        say = print if args.failover is None else (  # (its log: the heir's dir)
            lambda text: print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}", flush=True))
        remove(path, args.name, timeout=args.timeout,
               force=args.force or args.failover is not None, failover=args.failover,
               say=say)
    except (ConfigError, ClusterTimeout, ValueError, OSError) as e:
        print(f"swarm node remove: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"swarm node remove: interrupted; run it again to finish (each step is safe "
              f"to run again; {args.name} may be stopped meanwhile)", file=sys.stderr)
        return 130
    if args.place:
        args.apply = args.dry_run = False
        args.plot, args.min_gain, args.rebalance, args.max_moves = None, 0.0, True, None
        return _place(args)
    return 0


def _node(args) -> int:
    """swarm node gone NAME: declare a node gone for good (fence it)."""
    from swarm.client import Cluster, ClusterTimeout
    from swarm.node.config import ClusterConfig

    if (path := cluster_file_named(args, "node gone")) is None:
        return 1
    cluster = Cluster(ClusterConfig.load(path))
    try:
        cluster.fence(args.name)
    except (ClusterTimeout, ValueError) as e:
        print(f"swarm node gone: {e}", file=sys.stderr)
        return 1
    finally:
        cluster.close()
    print(f"{args.name} is declared gone: every other node refuses it; programs it held are "
          f"reported lost (NodeGone) to their clients; {path} lists it under `fenced`")
    return 0


def _gc(args) -> int:
    """swarm gc [--dry-run]: delete the Refs no program, collection or named Ref reaches."""
    from swarm.client import Cluster
    from swarm.garbage import CollectionStopped, collect
    from swarm.node.config import ClusterConfig

    if (path := cluster_file_named(args, "gc")) is None:
        return 1
    cluster = Cluster(ClusterConfig.load(path))
    try:
        report = collect(cluster, dry_run=args.dry_run,
                         say=lambda text: print(text, flush=True))
    except CollectionStopped as e:
        print(f"swarm gc: {e}", file=sys.stderr)
        return 1
    finally:
        cluster.close()
    print(report.summary())
    return 0


def _keys(args) -> int:
    from swarm.node.config import ClusterConfig

    if (path := cluster_file_named(args, "keys")) is None:
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

    for flag, value in (("--auto-place", args.auto_place), ("--auto-gc", args.auto_gc)):
        if value is not None and value < 0:
            print(f"swarm up: {flag} takes a number of seconds >= 0", file=sys.stderr)
            return 2
    try:
        config, started = up(args.dir, args.nodes, auto_place=args.auto_place,
                             auto_gc=args.auto_gc, curve=args.curve)
    except UpError as e:
        print(f"swarm up: {e}", file=sys.stderr)
        return 1
    kept = [name for name in config.names if name not in started and
            name not in config.fenced and name not in config.heirs]
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
    if config.auto_gc:
        print(f"{config.names[0]} runs swarm gc every {config.auto_gc:g} s (its log says what "
              f"was deleted)")
    print(f"run a program: swarm run --cluster {path} FILE.py; stop: swarm down --dir "
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
    from swarm import __version__

    parser = argparse.ArgumentParser(prog="swarm", description=__doc__.splitlines()[0],
                                     allow_abbrev=False)
    parser.add_argument("--version", action="version",
                        version=f"swarm {__version__} (Python {sys.version.split()[0]})")
    sub = parser.add_subparsers(dest="command", required=True)
    run = p = sub.add_parser(
        "run", help="run FILE.py (or FILE.sw) on a cluster",
        usage="swarm run [options] FILE [args...]   (options after FILE are the program's)")
    p.add_argument("file", help="the script: FILE.py, FILE.sw, or a directory with "
                                "__main__.py; everything after it is the program's sys.argv[1:]")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--nodes", type=int, help="local nodes to start for this run (default "
                                                 "3, unless ./.swarm holds a cluster)")
    where.add_argument("--cluster", help="a running cluster's file (cluster.toml)")
    where.add_argument("--dir", help="a running cluster's directory (swarm up --dir)")
    p.add_argument("--node", metavar="NAME",
                   help="the node it starts on (default: the cluster's first, n1)")
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
    p.add_argument("--timeout", type=float, metavar="S",
                   help="give up waiting after S seconds (exit status 124; default: wait as "
                        "long as the program runs)")
    p.set_defaults(func=cli_programs.run)
    p = sub.add_parser("result", help="wait for a program run with --detach; print its "
                                      "output")
    p.add_argument("program", help="the id `swarm run --detach` printed")
    _where(p)
    p.add_argument("--timeout", type=float, metavar="S",
                   help="give up waiting after S seconds (default: wait as long as it runs)")
    p.set_defaults(func=cli_programs.result)
    p = sub.add_parser("ps", help="the programs on a running cluster: id, node, age, state")
    _where(p)
    p.add_argument("--timeout", type=float, default=3.0, metavar="S",
                   help="seconds to wait for the nodes' answers (default 3; a node that "
                        "does not answer is named)")
    p.set_defaults(func=cli_programs.ps)
    p = sub.add_parser("cancel", help="stop a program (as Ctrl-C stops a script)")
    p.add_argument("program", help="its id (swarm ps, swarm run --detach)")
    _where(p)
    p.add_argument("--timeout", type=float, default=5.0, metavar="S",
                   help="seconds to wait for the nodes' answer (default 5)")
    p.set_defaults(func=cli_programs.cancel)
    p = sub.add_parser("logs", help="the nodes' logs (of a cluster on this machine)")
    p.add_argument("node", nargs="?", help="one node (default: all, each under a head)")
    _where(p)
    p.add_argument("-f", "--follow", action="store_true",
                   help="then print what they log as it comes, until Ctrl-C")
    p.add_argument("-n", "--lines", type=int, metavar="N",
                   help="only the last N lines of each log")
    p.set_defaults(func=cli_programs.logs)
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
                   help="draw the access graph coloured by node, before and after; moves "
                        "nothing unless --apply is given too")
    p.add_argument("--apply", action="store_true",
                   help="with --plot: carry out the plan as well (without --plot, carrying "
                        "it out is the default)")
    p.add_argument("--balance", type=float, default=1.1,
                   help="most bytes a node may hold, over the mean (default 1.1)")
    p.add_argument("--min-gain", type=float, default=0.0, metavar="SHARE",
                   help="move only if the plan saves at least this share of the hops "
                        "recorded (default 0: any saving)")
    p.add_argument("--rebalance", action="store_true",
                   help="only balance the bytes, with the fewest moves (after a node joined)")
    p.add_argument("--max-moves", type=int, metavar="N",
                   help="with --rebalance: move at most N Refs this round")
    p.set_defaults(func=_place)
    p = sub.add_parser("dashboard", help="a live web page of a running cluster")
    _where(p)
    p.add_argument("--port", type=int, default=8700, help="default 8700 (0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1; any other needs the "
                        "token printed at the start)")
    p.add_argument("--token", help="the token for a non-loopback address (default: random)")
    p.add_argument("--interval", type=float, default=1.0,
                   help="seconds between two questions to the nodes (default 1)")
    p.set_defaults(func=_dashboard)
    p = sub.add_parser("status", help="per-node statistics of a running cluster")
    _where(p)
    p.set_defaults(func=_status)
    p = sub.add_parser("node", help="manage the nodes of a running cluster")
    nsub = p.add_subparsers(dest="action", required=True)
    g = nsub.add_parser("gone", help="declare a node gone for good: the others refuse it, "
                                     "and the programs waiting for it end")
    g.add_argument("name")
    _where(g)
    g.set_defaults(func=_node)
    g = nsub.add_parser("add", help="a node joins the running cluster (started here, "
                                    "detached, unless --no-start)")
    g.add_argument("name", nargs="?", help="its name (default: the next free nK)")
    g.add_argument("--endpoint", help="where it listens (default: a free loopback port)")
    g.add_argument("--node-dir", help="where it keeps its store (default: beside the "
                                      "cluster file, named after it)")
    g.add_argument("--no-start", action="store_true",
                   help="do not start it: wait for it to be started on its machine")
    g.add_argument("--place", action="store_true",
                   help="then run the placer: Refs move to it until bytes are balanced")
    g.add_argument("--balance", type=float, default=1.1,
                   help="with --place: most bytes a node may hold, over the mean (1.1)")
    g.add_argument("--max-moves", type=int, metavar="N",
                   help="with --place: move at most N Refs (run swarm place --rebalance "
                        "again for more)")
    g.add_argument("--timeout", type=float, default=60.0,
                   help="seconds to wait for the node and for every node's answer (60)")
    _where(g)
    g.set_defaults(func=_node_add)
    g = nsub.add_parser("remove", help="a node leaves the running cluster: it stops, and its "
                                       "mirror takes its store")
    g.add_argument("name")
    g.add_argument("--force", action="store_true",
                   help="the node does not answer and will not: its mirror takes the copy it "
                        "has (writes the node made while its mirror was down are lost)")
    g.add_argument("--place", action="store_true",
                   help="then run the placer: Refs move off the heir until bytes are "
                        "balanced")
    g.add_argument("--balance", type=float, default=1.1,
                   help="with --place: most bytes a node may hold, over the mean (1.1)")
    g.add_argument("--timeout", type=float, default=60.0,
                   help="seconds to wait for each step (60)")
    g.add_argument("--failover", metavar="HEIR",
                   help="(run by the heir, HEIR: `failover` in the cluster file) the node is "
                        "silent and a majority agrees: no check, no drain; refused if it "
                        "answers, or if the file names another heir")
    _where(g)
    g.set_defaults(func=_node_remove)
    p = sub.add_parser("gc", help="delete the Refs that nothing can reach any more")
    p.add_argument("--dry-run", action="store_true",
                   help="say what would be deleted, delete nothing")
    _where(p)
    p.set_defaults(func=_gc)
    p = sub.add_parser("up", help="start a local cluster that keeps running")
    p.add_argument("--nodes", type=int, help="how many nodes (default 3; an existing cluster "
                                             "keeps its own)")
    p.add_argument("--dir", default=".swarm", help="its directory (default ./.swarm)")
    p.add_argument("--auto-place", type=float, metavar="SECONDS",
                   help="the first node runs `swarm place` every SECONDS (kept in the "
                        "cluster file; 0 turns it off)")
    p.add_argument("--auto-gc", type=float, metavar="SECONDS",
                   help="the first node runs `swarm gc` every SECONDS (kept in the cluster "
                        "file; 0 turns it off)")
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
    for p in [*sub.choices.values(), *nsub.choices.values()]:
        p.allow_abbrev = False  # no abbreviations of swarm's options, anywhere
        p.set_defaults(parser=p)  # which one says a command's errors
    argv = sys.argv[1:] if argv is None else list(argv)
    program_args: list[str] = []
    if argv[:1] == ["run"]:  # like python: swarm's options, the script, then the program's
        own, program_args = cli_programs.split_run_argv(run, argv[1:])
        argv = ["run", *own]
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the command's own parser, with its usage (not swarm's)
        args.parser.error(f"unrecognized arguments: {' '.join(extra)} ({args.parser.prog} "
                          f"--help lists its options)")
    args.args = program_args
    from swarm.node.config import ConfigError

    try:
        return args.func(args)
    except ConfigError as e:  # an unusable cluster file: say why, no traceback
        print(f"swarm: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
