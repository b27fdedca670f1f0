"""The `swarm` commands about programs: run, result, ps, cancel, logs.

`swarm run [OPTIONS] FILE [ARGS...]` reads like `python [OPTIONS] FILE [ARGS...]`: swarm's
options come before the script, and everything after it is the program's `sys.argv[1:]`,
options included (`swarm run p.py --n 5` gives the program `--n 5`; no abbreviation of
swarm's own options is accepted anywhere). The script is read, decoded and compiled here,
with the modules it imports, before any node starts: a missing file, a directory without
`__main__.py`, an undecodable file or a syntax error is one message, as `python` prints it.
The exit status is the program's, as under `python`: 0, SystemExit's code, 1 after an
uncaught exception (its traceback shows the user's frames), 130 after Ctrl-C (which asks
the cluster to cancel the program), 143 after SIGTERM (which does the same), 124 after
`--timeout`.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from swarm.cli_common import (
    client_of,
    cluster_file_named,
    cluster_for,
    cluster_path,
    not_running,
    say_silent,
)

TIMEOUT_STATUS = 124  # `swarm run --timeout` ran out (as coreutils' timeout(1))
INTERRUPTED_STATUS = 130  # Ctrl-C
TERMINATED_STATUS = 143  # SIGTERM (128 + 15): cancelled as by Ctrl-C
CONFIRM_SECONDS = 30.0  # swarm run --detach: how long the node has to accept the program


def split_run_argv(parser, argv: list[str]) -> tuple[list[str], list[str]]:
    """`swarm run`'s own arguments (up to and including the script) and the program's (all
    after it). The script is the first argument that is not an option or an option's value;
    `--` before it ends swarm's options."""
    known = {s for a in parser._actions for s in a.option_strings}
    takes_value = {s for a in parser._actions if a.option_strings and a.nargs != 0
                   for s in a.option_strings}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return argv[:i + 2], argv[i + 2:]
        if not arg.startswith("-") or arg == "-":
            return argv[:i + 1], argv[i + 1:]
        if arg.split("=", 1)[0] not in known:  # (else its value would be taken for FILE)
            parser.error(f"unrecognized option {arg} (swarm run's options come before FILE: "
                         f"swarm run --help lists them)")
        i += 2 if arg in takes_value else 1
    return argv, []


class ClientMistake(Exception):
    """What is wrong with the command line or the script, found before any node starts; its
    text is what to print (one message, or Python's own lines for a syntax error), `status`
    the exit status (python's: 2 for a file it cannot open, else 1)."""

    def __init__(self, text: str, status: int = 1) -> None:
        super().__init__(text)
        self.status = status


def cannot_open(command: str, path: str, e: OSError) -> ClientMistake:
    """What `python FILE` says of a file it cannot open (status 2), for `swarm COMMAND`."""
    return ClientMistake(f"swarm {command}: can't open file {os.path.abspath(path)!r}: "
                         f"[Errno {e.errno}] {e.strerror}", status=2)


def script_of(path: str) -> str:
    """The file to run for `path`: itself, or a directory's __main__.py (as `python DIR`).
    ClientMistake with Python's message if there is none."""
    if os.path.isdir(path):
        main = os.path.join(path, "__main__.py")
        if os.path.isfile(main):
            return main
        raise ClientMistake(f"swarm run: can't find '__main__' module in {path!r} (a "
                            f"directory runs its __main__.py)")
    if not os.path.exists(path):
        raise cannot_open("run", path, FileNotFoundError(2, "No such file or directory"))
    return path


def read_script(path: str, command: str) -> str:
    """The text of the one file `swarm check` or `swarm migrate` takes, decoded as Python
    decodes a script (a coding line, else UTF-8); ClientMistake with what `python FILE`
    would print if it cannot be opened (missing, a directory, unreadable: status 2) or
    decoded (status 1) - never a traceback."""
    from swarm.program_files import SourceError, read_source

    try:
        return read_source(path)
    except SourceError as e:
        raise ClientMistake(e.lines.rstrip("\n")) from None
    except OSError as e:
        raise cannot_open(command, path, e) from None


def prepare(path: str) -> tuple:
    """Read, decode, parse and compile the script and the modules it imports (what
    Cluster.submit ships); ClientMistake with what Python would print if one cannot be."""
    from swarm.compiler import CompileError, compile_source
    from swarm.program_files import SourceError, program_sources
    from swarm.skywriting import SkywritingError

    try:
        prepared = program_sources(path)
    except SourceError as e:
        raise ClientMistake(e.lines.rstrip("\n")) from None
    except SkywritingError as e:
        raise ClientMistake(str(e)) from None
    except OSError as e:
        raise cannot_open("run", e.filename, e) from None
    if path.endswith(".sw"):
        return prepared
    _, sources, _ = prepared
    for name, filename, text in sources.values():
        try:
            compile_source(text, filename, name)
        except CompileError as e:
            raise ClientMistake(_located(e, text)) from None
    return prepared


def _located(e, text: str) -> str:
    """file:line:col: message, then the line and a caret under the column."""
    lines = text.splitlines()
    shown = f"{e.filename}:{e.line}:{e.col}: {e.message}"
    if 0 < e.line <= len(lines):
        line = lines[e.line - 1]
        stripped = line.lstrip()
        caret = max(e.col - 1 - (len(line) - len(stripped)), 0)
        shown += f"\n    {stripped}\n    {' ' * caret}^"
    return shown


def run(args) -> int:
    skywriting = args.file.endswith(".sw")
    if args.detach and not cluster_path(args):
        print("swarm run --detach: the program needs a cluster that keeps running (give "
              "--cluster FILE or --dir D, or start one with swarm up)", file=sys.stderr)
        return 1
    if args.timeout is not None and args.timeout <= 0:
        print("swarm run: --timeout takes a number of seconds > 0", file=sys.stderr)
        return 2
    try:
        script = script_of(args.file)
        prepared = prepare(script)
        options = dict(hop_checkpoints=args.hop_checkpoints, policy=args.policy,
                       strict=args.strict, trace=args.trace, env=_pairs(args.env, "--env"),
                       packages=_pairs(args.package, "--package"), prepared=prepared)
    except ClientMistake as e:
        print(e, file=sys.stderr)
        return e.status
    n = args.nodes or 3  # temporary nodes are n1..nN (local_config), said before starting
    if args.node and (args.nodes or not cluster_path(args)) and \
            args.node not in [f"n{i}" for i in range(1, n + 1)]:
        print(f"swarm run: no node {args.node!r} among the {n} temporary nodes (n1..n{n})",
              file=sys.stderr)
        return 2
    # (before the program is submitted: a Ctrl-C from then on cancels it - it came while
    # this imported swarm.localcluster, at the start of the wait, and ended swarm run alone)
    shared = cluster_path(args) is not None and not args.nodes
    with cluster_for(args) as cluster:
        if cluster is None:
            return 1
        if args.node and args.node not in cluster.config.names:
            print(f"swarm run: no node {args.node!r} in {cluster.config.path} (its nodes: "
                  f"{', '.join(cluster.config.names)})", file=sys.stderr)
            return 2
        # stdin: forwarded to the program as it reads it; a detached one reads end-of-file
        try:
            program = cluster.submit(args.file, args.args, stdin="detached" if args.detach
                                     else not skywriting, node=args.node,
                                     **options)  # argv[0]: as given
        except ValueError as e:  # a node declared gone, a submission over the size limit
            print(f"swarm run: {e}", file=sys.stderr)
            return 2
        if args.detach:
            from swarm import asknodes
            from swarm.client import ClusterTimeout

            try:
                # written on its node: it runs whatever happens here
                cluster.confirm(program, timeout=CONFIRM_SECONDS)
            except ClusterTimeout:
                node = args.node or asknodes.live_nodes(cluster)[0]
                print(f"swarm run --detach: {node} did not accept the program in "
                      f"{CONFIRM_SECONDS:g} s (down, or unreachable from here?): it was not "
                      f"submitted", file=sys.stderr)
                return 1
            print(program)
            print(f"its output: swarm result {program} {_named(args, cluster)}",
                  file=sys.stderr)
            return 0
        return _wait(args, cluster, program, skywriting, shared)


def _wait(args, cluster, program: str, skywriting: bool, shared: bool) -> int:
    """Wait for the program, printing its output; Ctrl-C or SIGTERM cancels it, --timeout
    gives up.

    Discussion: SIGTERM (kill, a service manager, a CI job's timeout) used to end `swarm
    run` at once, without a word, and the program ran on in the cluster, unseen. It now
    does what Ctrl-C does - the program is cancelled, its `finally` blocks run and its end
    is shown - after a line on stderr that says so; the exit status is then 143 (128 +
    SIGTERM) where Ctrl-C's is 130."""
    terminated: list = []

    def on_sigterm(signum, frame) -> None:
        terminated.append(signum)  # (said in _wait_or_cancel: no print in a handler)
        if len(terminated) == 1:  # (a second one - `timeout` sends its group another -
            raise KeyboardInterrupt  # while the program is stopped changes nothing: raised,
            # it broke the stop half-way and printed swarm's own traceback)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        status = _wait_or_cancel(args, cluster, program, skywriting, terminated, shared)
    finally:  # (terminated: swarm run ends now, and a later SIGTERM - the same stop again -
        # is ignored, not a kill by the default action half-way through its exit)
        signal.signal(signal.SIGTERM, signal.SIG_IGN if terminated else previous)
    return TERMINATED_STATUS if terminated and status == INTERRUPTED_STATUS else status


def _wait_or_cancel(args, cluster, program: str, skywriting: bool, terminated: list,
                    shared: bool) -> int:
    from swarm.client import ClusterTimeout

    try:
        outcome = _results(args, cluster, program, shared)
    except KeyboardInterrupt:
        if terminated:
            sys.stdout.flush()
            print(f"\nswarm run: SIGTERM: program {program} is stopped as Ctrl-C "
                  f"stops it", file=sys.stderr)
        return _interrupted(args, cluster, program, shared, skywriting)
    except NodeExited as e:
        sys.stdout.flush()
        print(f"swarm run: {e}", file=sys.stderr)
        return e.status
    except BrokenPipeError:
        return _reader_gone(args, cluster, program, shared)
    except ClusterTimeout:
        named = _named(args, cluster)
        note = (f"it goes on: swarm result {program} {named}; swarm cancel {program} "
                f"{named} stops it") if shared else "its nodes are stopped"
        print(f"swarm run: the program did not end within --timeout {args.timeout:g} s; "
              f"{note}", file=sys.stderr)
        return TIMEOUT_STATUS
    return report(args, outcome, skywriting)


WATCH_SECONDS = 1.0  # how often swarm run looks at its temporary nodes' processes


class NodeExited(Exception):
    """A temporary node of `swarm run` exited while the program ran; `status` is what
    `swarm run` exits with (the node's, as `python` would exit after os._exit(N))."""

    def __init__(self, name: str, code: int) -> None:
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        super().__init__(
            f"node {name} {how} while the program ran: a program that calls os._exit() or "
            f"crashes the interpreter (a fault in a C extension, say) ends the node it is "
            f"on, and what it printed since its last output is lost")
        self.status = 128 - code if code < 0 else code


def _results(args, cluster, program: str, shared: bool):
    """The program's outcome, printing its output as it comes. On temporary nodes, also
    watch their processes: one that exits (os._exit() in the program, a crash) raises
    NodeExited, where waiting for a program no node can finish would never end."""
    from swarm.client import ClusterTimeout

    procs = getattr(cluster, "procs", None)
    if shared or not procs:
        return cluster.results([program], args.timeout, echo=True)[program]
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    while True:
        left = WATCH_SECONDS if deadline is None else deadline - time.monotonic()
        try:
            return cluster.results([program], max(0.0, min(left, WATCH_SECONDS)),
                                   echo=True)[program]
        except ClusterTimeout:
            if deadline is not None and time.monotonic() >= deadline:
                raise
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise NodeExited(name, proc.returncode)


def _stdout_to_devnull() -> None:
    """After BrokenPipeError: nothing more reaches stdout (the interpreter flushes it at
    exit, which would raise again)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _reader_gone(args, cluster, program: str, shared: bool) -> int:
    """What read `swarm run`'s output went away (`swarm run p.py | head`): the program is
    cancelled (or stopped with its temporary nodes) and `swarm run` exits 1, saying so in
    one line - as `python` ends with BrokenPipeError at the print, not a traceback of
    swarm's own frames and a program that runs on unseen."""
    from swarm.client import ClusterTimeout, UnknownProgram

    _stdout_to_devnull()
    if not shared:
        for name in list(getattr(cluster, "procs", ())):
            cluster.kill(name)
        what = "stopped with its temporary nodes"
    else:
        try:
            cluster.cancel(program, timeout=2.0)
            what = "cancelled"
        except (ClusterTimeout, UnknownProgram) as e:
            what = f"not cancelled ({e}): swarm cancel {program} {_named(args, cluster)}"
    print(f"swarm run: BrokenPipeError: its output's reader went away; program {program} "
          f"{what}", file=sys.stderr)
    return 1


CANCELLED_SECONDS = 30.0  # after Ctrl-C, how long the cancelled program has to end (its
# finally blocks may hop: 5 s was too short for them on a loaded machine)


def _interrupted(args, cluster, program: str, shared: bool, skywriting: bool) -> int:
    """Ctrl-C: on a running cluster, cancel the program and show its end as `python` shows
    a script's on Ctrl-C - what its `finally` blocks print, then the traceback ending in
    KeyboardInterrupt - with its exit status (130, or what a program that catches
    KeyboardInterrupt exits with); temporary nodes are stopped at once, the program with
    them.

    Discussion: the cancel throws KeyboardInterrupt into the program where it runs, which
    may print and end, or catch it and go on: `swarm run` waits CANCELLED_SECONDS for its
    end (a second Ctrl-C stops waiting), then says it may go on and how to stop it."""
    from swarm.client import ClusterTimeout, UnknownProgram

    def interrupted(note: str) -> int:
        sys.stdout.flush()
        print(f"\nKeyboardInterrupt: {note}", file=sys.stderr)
        return INTERRUPTED_STATUS

    if not shared:  # the nodes are ours, and go: at once, as Ctrl-C ends a process
        for name in list(getattr(cluster, "procs", ())):
            cluster.kill(name)
        return interrupted(f"program {program} stopped with its temporary nodes")
    stop = f"swarm cancel {program} {_named(args, cluster)}"
    try:
        state = cluster.cancel(program, timeout=2.0)
    except (ClusterTimeout, UnknownProgram) as e:
        return interrupted(f"asked the cluster to cancel program {program}, which did not "
                           f"confirm it ({e}); it may go on: {stop}")
    try:
        outcome = cluster.results([program], CANCELLED_SECONDS, echo=True)[program]
    except (ClusterTimeout, KeyboardInterrupt):
        what = {"cancelled": "cancelled", "finished": "had ended",
                "forwarded": "cancelled on its way"}[state]
        return interrupted(f"program {program} {what}, and has not ended (it may go on: "
                           f"{stop})")
    return report(args, outcome, skywriting)


def _client_for_program(args, command: str):
    """A client of the running cluster, for `swarm COMMAND ID`; None after saying why not
    (an id that cannot be one is said at once, before any node is asked)."""
    from swarm.client import UnknownProgram, check_program_id

    try:
        check_program_id(args.program)
    except UnknownProgram as e:
        print(f"swarm {command}: {e}", file=sys.stderr)
        return None
    return client_of(args, command)


PING_SECONDS = 2.0  # swarm result: how long the nodes have to answer a hello


def result(args) -> int:
    """Wait for a program's end, printing its output; a node that does not answer at the
    start is named (if the program is there, the wait goes on until it answers)."""
    from swarm import asknodes
    from swarm.client import ClusterTimeout, UnknownProgram

    if (cluster := _client_for_program(args, "result")) is None:
        return 1
    live = asknodes.live_nodes(cluster)
    answered = cluster.ping(live, timeout=PING_SECONDS)
    if not answered:
        not_running("result", cluster.config.path, f"no node answered within "
                                                   f"{PING_SECONDS:g} s (nodes {', '.join(live)})")
        cluster.close()
        return 1
    say_silent("result", [n for n in live if n not in answered], PING_SECONDS,
               "if the program is there, this waits for it")
    try:
        outcome = cluster.wait(args.program, timeout=args.timeout, echo=True)
    except (ClusterTimeout, UnknownProgram) as e:
        print(f"swarm result: {e}", file=sys.stderr)
        return TIMEOUT_STATUS if isinstance(e, ClusterTimeout) else 1
    except KeyboardInterrupt:  # stops watching; the program goes on
        return INTERRUPTED_STATUS
    except BrokenPipeError:  # (swarm result ID | head): stops watching, as Ctrl-C does
        _stdout_to_devnull()
        print(f"swarm result: BrokenPipeError: its output's reader went away (program "
              f"{args.program} goes on)", file=sys.stderr)
        return 1
    finally:
        cluster.close()
    args.show_node = args.trace = False
    return report(args, outcome, False)


def report(args, outcome, skywriting: bool) -> int:
    """After the output: the route, the trace, then the end as `python` would show it (the
    error or, for Skywriting, the result as JSON); returns the exit status."""
    from swarm.skywriting import error_text, interrupt_text
    from swarm.skywriting.values import to_json

    if args.show_node:
        print(f"[swarm] ran on {' -> '.join(outcome.route)}", file=sys.stderr)
    if args.trace:
        print_trace(outcome.trace, sys.stderr)
    if skywriting:  # the error, located in the script; else the result as JSON
        if outcome.error and outcome.error.split(":")[0] == "KeyboardInterrupt":
            sys.stdout.flush()  # Ctrl-C (or SIGTERM): where it stopped, and 130 as python
            print(interrupt_text(outcome.error, outcome.traceback or ""), file=sys.stderr)
            return INTERRUPTED_STATUS
        if outcome.error:
            print(error_text(outcome.error), file=sys.stderr)
            return 1
        print(to_json(outcome.value))
        return 0
    status, text = outcome.exit_status()
    sys.stdout.flush()
    if outcome.ended.get("note"):
        sys.stderr.write(f"[swarm] {outcome.ended['note']}\n")
    sys.stderr.write(text)
    return status


def _pairs(items, option: str) -> dict:
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ClientMistake(f"swarm run: {option} takes KEY=VALUE, not {item!r}")
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


def ps(args) -> int:
    """What the live nodes hold; a node that does not answer is named (exit status 1)."""
    from swarm.client import ClusterTimeout

    if (cluster := client_of(args, "ps")) is None:
        return 1
    try:
        rows, silent = cluster.programs(timeout=args.timeout)
    except ClusterTimeout as e:
        not_running("ps", cluster.config.path, e)
        return 1
    finally:
        cluster.close()
    now = time.time()
    print(f"{'PROGRAM':<28} {'NODE':<6} {'AGE':>8}  STATE")
    for row in rows:
        name = row.program + (f"/{row.task}" if row.task else "")
        print(f"{name:<28} {row.node:<6} {_age(now - row.since):>8}  {row.state}")
    say_silent("ps", silent, args.timeout, "its programs are not listed")
    return 1 if silent else 0


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def cancel(args) -> int:
    """Cancel a program on the live nodes; those that do not answer are named."""
    from swarm import asknodes
    from swarm.client import ClusterTimeout, UnknownProgram

    if (cluster := _client_for_program(args, "cancel")) is None:
        return 1
    try:
        state, silent = asknodes.cancel(cluster, args.program, timeout=args.timeout)
    except (ClusterTimeout, UnknownProgram) as e:
        print(f"swarm cancel: {e}", file=sys.stderr)
        return 1
    finally:
        cluster.close()
    say_silent("cancel", silent, None, "it has not recorded the cancel")
    print(f"{args.program}: " + {"cancelled": "cancelled", "finished": "had ended already",
                                 "forwarded": "cancelled (the cancel follows it to the node it "
                                              "was on its way to)"}[state])
    return 0


def logs(args) -> int:
    from swarm import logs as node_logs
    from swarm.node.config import ClusterConfig

    if (path := cluster_file_named(args, "logs")) is None:
        return 1
    config = ClusterConfig.load(path, need_secret=False)
    try:
        node_logs.show(config, [args.node] if args.node else None, sys.stdout, args.lines,
                       follow=args.follow)
    except node_logs.NoLog as e:
        print(f"swarm logs: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the way to end -f
        return 0
    return 0


def _named(args, cluster) -> str:
    """How the user named the cluster, for a command line we suggest: `--dir D` as they gave
    it, else `--cluster FILE` (the newcomer trial of 2026-12-08 got `--cluster` back for
    `--dir`, and a `swarm cancel ID` without either, which looks in ./.swarm)."""
    if getattr(args, "dir", None):
        return f"--dir {args.dir}"
    return f"--cluster {cluster.config.path}"
