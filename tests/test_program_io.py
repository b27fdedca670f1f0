"""A program's output, input, logging and warnings as under `python` (issue 16, item 1).

Each test runs `swarm run` as a process, the way a user does, and compares what it prints
with `python -u` on the same script (unbuffered, so that stdout and stderr interleave in
program order, as on a terminal). Streaming is checked by ordering, never by timing: the
program waits for a file that the test creates only once it has seen the first line."""

import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from helpers import ROOT, run_at_once, swarm_cli, write

import swarm

ENV = dict(os.environ, PYTHONPATH=ROOT)


def python(script: str, cwd, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-u", script], cwd=cwd, input=input, env=ENV,
                          capture_output=True, text=True, timeout=60)


def plain(tmp_path, name: str, source: str) -> str:
    """The script for `python`, written over swarm's (warnings name the same file): its
    lines marked `# swarm` (the import, the hops) become `pass`, so both run the same code
    in the same order."""
    lines = [line[:len(line) - len(line.lstrip())] + "pass" if line.endswith("# swarm")
             else line for line in source.splitlines()]
    return write(tmp_path, name, "\n".join(lines) + "\n")


def merged(*args: str, cwd, input: str | None = None) -> subprocess.CompletedProcess:
    """A command with stderr into stdout, as a terminal shows them."""
    return subprocess.run(list(args), cwd=cwd, input=input, env=ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120)


def read_until(proc, want: str, seconds: float = 60.0) -> str:
    """What `proc` wrote to stdout until `want` appeared (bounded: fails after `seconds`)."""
    seen = b""
    deadline = time.monotonic() + seconds
    fd = proc.stdout.fileno()
    while want.encode() not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{want!r} did not appear; seen {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            assert chunk, f"the output ended before {want!r}; seen {seen!r}"
            seen += chunk
    return seen.decode()


STREAM = '''\
import os, sys, time
from swarm import Ref, here
{before}
print("first line", flush={flush})
print("partial", end="")
while not os.path.exists(sys.argv[1]):   # the test creates it once it has seen the line
    time.sleep(0.02)
r = Ref(1, at="n2")                       # then the program moves on
print(" and the rest", r.get())
print("to stderr", file=sys.stderr)
'''


@pytest.mark.parametrize("flush", [True, False])
def test_output_streams_while_the_program_runs(tmp_path, flush):
    """A line reaches the terminal while the program still runs (with or without flush=),
    and text without a newline too (at most a slice later)."""
    script = write(tmp_path, "stream.py", STREAM.format(before="", flush=flush))
    go = tmp_path / "go"
    proc = subprocess.Popen([sys.executable, "-m", "swarm.cli", "run", "--nodes", "2", script,
                             str(go)], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        seen = read_until(proc, "partial")  # the program waits for `go` meanwhile
        assert seen == "first line\npartial"
        go.touch()
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0
    assert seen + rest.decode() == "first line\npartial and the rest 1\n"
    assert err.decode() == "to stderr\n"


ORDER = '''\
import sys
from swarm import Ref, move_to
for i in range(3):
    print("out", i)
    print("err", i, file=sys.stderr)
    move_to("n2" if i % 2 == 0 else "n1")
sys.stderr.write("no newline on stderr")
print()
print("end")
'''


def test_stdout_and_stderr_interleave_in_program_order_across_hops(tmp_path):
    script = write(tmp_path, "order.py", ORDER.replace("from swarm import Ref, move_to",
                                                       "from swarm import move_to"))
    ours = merged(sys.executable, "-m", "swarm.cli", "run", "--nodes", "2", script,
                  cwd=tmp_path)
    plain = write(tmp_path, "plain.py", ORDER.replace("from swarm import Ref, move_to", "")
                  .replace('move_to("n2" if i % 2 == 0 else "n1")', "pass"))
    theirs = merged(sys.executable, "-u", plain, cwd=tmp_path)
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)
    assert ours.stdout.startswith("out 0\nerr 0\nout 1\nerr 1\n")


LOGGING = '''\
import logging, sys, warnings
from swarm import move_to  # swarm
logging.getLogger("x").warning("before any configuration")  # (no handler: the last resort)
log = logging.getLogger(__name__)
logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
log.debug("configured")
move_to("n2")  # swarm
log.info("after the hop")                         # on n2 now: the same configuration
warnings.warn("deprecated thing", DeprecationWarning)   # hidden outside __main__ only
warnings.warn("a user warning")
warnings.warn("a user warning")                   # (the same place: twice)
for i in range(2):
    warnings.warn("once per place")               # shown once
print("done")
'''


def test_logging_and_warnings_as_in_a_fresh_interpreter(tmp_path):
    script = write(tmp_path, "logs.py", LOGGING)
    ours = swarm_cli("run", "--nodes", "2", script, cwd=tmp_path)
    theirs = python(plain(tmp_path, "logs.py", LOGGING), tmp_path)
    assert (ours.returncode, ours.stdout, ours.stderr) == \
        (theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.stderr.startswith("before any configuration\nDEBUG __main__: configured\n"
                                  "INFO __main__: after the hop\n")


QUIET = '''\
import logging, time, warnings
from swarm import here
for i in range(8):
    logging.info("quiet %d", i)                    # not shown: the root's level is WARNING
    logging.warning("quiet warns %d", i)
    time.sleep(0.05)
print(here())
'''

LOUD = '''\
import logging, time, warnings
from swarm import here
logging.basicConfig(level=logging.INFO, format="LOUD %(message)s")
warnings.simplefilter("error")
for i in range(8):
    logging.info("loud %d", i)
    time.sleep(0.05)
try:
    warnings.warn("an error here")
except UserWarning:
    print("warning raised", here())
'''


def test_one_programs_logging_setup_never_affects_anothers_on_the_same_node(tmp_path):
    with swarm.local_cluster(1) as cluster:
        quiet, loud = run_at_once(cluster, [(write(tmp_path, "quiet.py", QUIET), []),
                                            (write(tmp_path, "loud.py", LOUD), [])])
    assert quiet.error is None and loud.error is None, (quiet.traceback, loud.traceback)
    assert quiet.stdout == "n1\n" and loud.stdout == "warning raised n1\n"
    assert quiet.stderr == "".join(f"WARNING:root:quiet warns {i}\n" for i in range(8))
    assert loud.stderr == "".join(f"LOUD loud {i}\n" for i in range(8))


STDIN = '''\
import sys
from swarm import move_to  # swarm
name = input("name? ")
move_to("n2")  # swarm
print("hello", name)                              # on n2: the rest of stdin is still there
print("next:", sys.stdin.readline().rstrip())
for line in sys.stdin:
    print("line", line.rstrip())
    if line.startswith("stop"):
        break
print("rest:", repr(sys.stdin.read()))
print("again:", repr(sys.stdin.read()))
try:
    input()
except EOFError:
    print("EOFError")
'''


def test_stdin_is_forwarded(tmp_path):
    script = write(tmp_path, "ask.py", STDIN)
    text = "ada\nsecond\nthird\nfourth\nstop here\nthe end\nno newline"
    ours = swarm_cli("run", "--nodes", "2", script, cwd=tmp_path, input=text)
    theirs = python(plain(tmp_path, "ask.py", STDIN), tmp_path, input=text)
    assert (ours.returncode, ours.stdout, ours.stderr) == \
        (theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.stdout.startswith("name? hello ada\nnext: second\nline third\n")


def test_the_prompt_is_shown_before_the_program_waits_for_input(tmp_path):
    script = write(tmp_path, "prompt.py", 'print("answer:", input("your name? "))\n')
    proc = subprocess.Popen([sys.executable, "-m", "swarm.cli", "run", "--nodes", "1", script],
                            cwd=tmp_path, env=ENV, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert read_until(proc, "your name? ") == "your name? "
        out, err = proc.communicate(b"bee\n", timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert (proc.returncode, out, err) == (0, b"answer: bee\n", b"")


def test_a_detached_program_reads_end_of_file_with_a_note(tmp_path):
    script = write(tmp_path, "detached.py", textwrap.dedent('''\
        import sys
        print("read", repr(sys.stdin.read()))
        try:
            input("? ")
        except EOFError:
            print("EOFError")
        '''))
    cluster_dir = str(tmp_path / "c")
    up = swarm_cli("up", "--nodes", "1", "--dir", cluster_dir, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    try:
        started = swarm_cli("run", "--detach", "--dir", cluster_dir, script, cwd=tmp_path,
                            input="never read\n")
        assert started.returncode == 0, started.stderr
        program = started.stdout.strip()
        done = swarm_cli("result", program, "--dir", cluster_dir, cwd=tmp_path)
    finally:
        swarm_cli("down", "--dir", cluster_dir, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "read ''\n? EOFError\n")
    assert done.stderr == "[swarm] stdin: this program was started with --detach; it reads " \
                          "end-of-file\n"


BINARY = '''\
import sys
from swarm import move_to  # swarm
sys.stdout.write("text, ")
sys.stdout.buffer.write(b"bytes\\n")
sys.stdout.buffer.write("caf\\u00e9 ".encode()[:4])     # a character cut in two ...
sys.stdout.buffer.write("caf\\u00e9 ".encode()[4:] + b"whole\\n")  # ... whole again
move_to("n2")  # swarm
sys.stdout.buffer.flush()
sys.stderr.buffer.write(b"to stderr\\n")
print("line", sys.stdin.buffer.readline())
print("four", sys.stdin.buffer.read(4))              # (the last of them half a character)
print("rest", sys.stdin.buffer.read())
try:
    sys.stdout.buffer.write(b"\\x89PNG\\r\\n")         # not text: an error, never mangled
except UnicodeDecodeError as e:
    print("refused:", e.reason.split(":")[0])
'''


def test_the_binary_streams_as_under_python(tmp_path):
    """sys.stdout.buffer, sys.stderr.buffer and sys.stdin.buffer work (UTF-8), as they do
    in a terminal under python; bytes that are not UTF-8 are refused with an error, where
    `python` would write them (the output carries text to the client)."""
    script = write(tmp_path, "binary.py", BINARY)
    text = "first line\n\u00e9t\u00e9 and the rest\nmore\n"
    ours = swarm_cli("run", "--nodes", "2", script, cwd=tmp_path, input=text)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == ("text, bytes\ncaf\u00e9 whole\nline b'first line\\n'\n"
                           "four b'\\xc3\\xa9t\\xc3'\n"
                           "rest b'\\xa9 and the rest\\nmore\\n'\n"
                           "refused: invalid start byte\n")
    assert ours.stderr == "to stderr\n"
    theirs = python(plain(tmp_path, "binary.py", BINARY.split("try:")[0]), tmp_path,
                    input=text)
    assert (theirs.stdout, theirs.stderr) == (ours.stdout.rsplit("refused", 1)[0],
                                              ours.stderr)


def test_input_that_is_not_text_is_replaced_and_said_so(tmp_path):
    script = write(tmp_path, "bin_in.py", "import sys\nprint(ascii(sys.stdin.read()))\n")
    ours = subprocess.run([sys.executable, "-m", "swarm.cli", "run", "--nodes", "1", script],
                          cwd=tmp_path, env=dict(ENV, PYTHONIOENCODING="utf-8"),
                          input=b"ok \xff\xfe\n", capture_output=True, timeout=120)
    assert (ours.returncode, ours.stdout) == (0, b"'ok \\ufffd\\ufffd\\n'\n"), ours.stderr
    assert ours.stderr == b"[swarm] stdin: bytes that are not utf-8 text were replaced by " \
                          b"U+FFFD (a program's stdin on the cluster carries text: pass " \
                          b"binary data in a file or a Ref)\n"


CTRL_C = '''\
import sys, time
from swarm import move_to  # swarm
move_to("n2")  # swarm
try:
    print("started", flush=True)
    while True:
        time.sleep(0.05)
finally:
    print("cleanup ran")
'''


def test_ctrl_c_shows_what_the_finally_blocks_print_and_the_traceback(tmp_path):
    """Ctrl-C on a running cluster, as under python: the program's `finally` blocks run
    and what they print reaches the terminal, then the traceback ending in
    KeyboardInterrupt; exit status 130."""
    script = write(tmp_path, "ctrl_c.py", CTRL_C)
    cluster_dir = str(tmp_path / "c")
    up = swarm_cli("up", "--nodes", "2", "--dir", cluster_dir, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    try:
        proc = subprocess.Popen([sys.executable, "-m", "swarm.cli", "run", "--dir", cluster_dir,
                                 script], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            read_until(proc, "started\n")
            proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
            proc.wait()
    finally:
        swarm_cli("down", "--dir", cluster_dir, cwd=tmp_path)
    assert (proc.returncode, out) == (130, "cleanup ran\n"), err
    assert err.startswith("Traceback (most recent call last):\n") and err.endswith(
        "KeyboardInterrupt: cancelled\n(raised on n2)\n"), err
    assert f'File "{script}", line 7, in <module> [n2]\n' in err


def test_a_program_that_ends_its_node_with_os_exit_is_said_so(tmp_path):
    """os._exit() ends the process it runs in - on the cluster, its node. On temporary nodes
    `swarm run` says so and exits with that status (as python would), instead of waiting
    for a program no node can finish."""
    script = write(tmp_path, "leave.py", "import os\nos._exit(4)\n")
    done = swarm_cli("run", "--nodes", "1", "--timeout", "60", script, cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith("swarm run: node n1 exited with status 4 while the program "
                                  "ran: a program that calls os._exit()"), done.stderr


def test_output_read_by_a_process_that_goes_away(tmp_path):
    """`swarm run p.py | head -1`: when what reads the output goes away, the program is
    stopped and swarm run exits 1 with one line, as python ends with BrokenPipeError (not
    a traceback of swarm's own frames, the program running on unseen)."""
    script = write(tmp_path, "many.py", "import itertools\nfor i in itertools.count():\n"
                                        "    print(i)\n")
    proc = subprocess.Popen([sys.executable, "-m", "swarm.cli", "run", "--nodes", "1", script],
                            cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "0\n"
        proc.stdout.close()  # as head does after its line
        err = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 1
    assert err.startswith("swarm run: BrokenPipeError: its output's reader went away; program "
                          "c") and err.endswith(" stopped with its temporary nodes\n"), err


def test_swarm_run_without_a_stdin(tmp_path):
    """`swarm run p.py <&-` (no descriptor 0: some supervisors start commands so): the
    program runs, and reads end-of-file if it reads."""
    script = write(tmp_path, "no_stdin.py", 'print("ran")\nprint(repr(__import__("sys")'
                                            '.stdin.read()))\n')
    done = subprocess.run([sys.executable, "-m", "swarm.cli", "run", "--nodes", "1", script],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: os.close(0))
    assert (done.returncode, done.stdout, done.stderr) == (0, "ran\n''\n", "")


def test_swarm_result_whose_reader_goes_away(tmp_path):
    script = write(tmp_path, "lines.py", "for i in range(100_000):\n    print(i)\n")
    cluster_dir = str(tmp_path / "c")
    up = swarm_cli("up", "--nodes", "1", "--dir", cluster_dir, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    try:
        started = swarm_cli("run", "--detach", "--dir", cluster_dir, script, cwd=tmp_path)
        assert started.returncode == 0, started.stderr
        program = started.stdout.strip()
        proc = subprocess.Popen([sys.executable, "-m", "swarm.cli", "result", program, "--dir",
                                 cluster_dir], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline() == "0\n"
            proc.stdout.close()
            err = proc.stderr.read()
            proc.wait(timeout=60)
        finally:
            proc.kill()
            proc.wait()
    finally:
        swarm_cli("down", "--dir", cluster_dir, cwd=tmp_path)
    assert (proc.returncode, err) == (1, f"swarm result: BrokenPipeError: its output's reader "
                                         f"went away (program {program} goes on)\n")
