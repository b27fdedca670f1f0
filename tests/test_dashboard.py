"""`swarm dashboard`, as an operator uses it: the command started as a process of its own
against a running cluster, its page opened in headless Chromium (Debian's, which `make test`
installs) while programs run, and looked at again and again as the cluster changes - nodes,
hop rates, programs in flight and their cancel buttons, the hop timeline, fallbacks and
their reasons, the access graph - without a reload. Node states beyond up and down (waiting
for a peer, declared gone, a store refusing writes: a real full disk), and who may see the
page or cancel: a token off loopback, this machine's name only on loopback, JSON from the
same origin."""

import contextlib
import http.client
import json
import os
import re
import subprocess
import sys

import pytest
from cdp import Browser, chromium
from helpers import ROOT, swarm_cli, wait_for, write

import swarm

WORK = """
from swarm import Ref
refs = {n: [Ref(list(range(k * 40)), at=n) for k in range(1, 5)] for n in ("n1", "n2", "n3")}
for _ in range(4):
    for n in ("n1", "n2", "n3"):
        for r in refs[n]:
            r.get()
        refs["n2"][0].get()     # every round comes back to one Ref: the heaviest edges
RESULT = sum(len(v) for v in refs.values())
"""

MORE = """
from swarm import Ref
more = [Ref("x" * 500 * k, at="n3") for k in range(1, 6)]
for r in more + more:
    r.get()
RESULT = len(more)
"""

PARKED = """
// parks on the future of a command that takes a while (stdinout runs it in a thread)
out = exec("stdinout", {"inputs": [], "command_line": ["sleep", "60"]}, 1);
return *out[0];
"""

SPIN = """
from swarm import Ref
a = Ref(1, at="n2")     # a hop: n1 -> n2
a.get()
x = 0
while True:             # and it spins there until it is cancelled
    x += 1
"""

FALLBACK = """
from swarm import Ref
refs = [Ref(i, at=n) for i, n in enumerate(["n1", "n2", "n3"])]
# sorted() is C code: the Ref accesses in its key cannot move the program (a fallback)
print(sorted(refs, key=lambda r: -r.get())[0].get())
"""


def start_dashboard(cluster_file: str, *args: str) -> tuple[subprocess.Popen, str]:
    """`swarm dashboard --cluster FILE --port 0 ...` and the URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarm.cli", "dashboard", "--cluster", cluster_file,
         "--port", "0", "--interval", "0.5", *args],
        env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    line = proc.stdout.readline()
    assert line.startswith("swarm dashboard: http://"), line + proc.stderr.read()
    return proc, line.split()[2]


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


def rows(page, table: str, attribute: str) -> list:
    """The values of a data attribute over the rows of a table of the page."""
    return page.evaluate(f"Array.from(document.querySelectorAll('#{table} tbody tr'))"
                         f".map(r => r.dataset.{attribute})")


def test_the_page_draws_the_cluster_and_follows_it_without_a_reload(cluster, tmp_path):
    if chromium() is None:
        if os.environ.get("SWARM_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is not installed (`make test` installs it)")
        pytest.skip("chromium is not installed (`make test` installs it)")
    out = cluster.run_file(write(tmp_path, "work.py", WORK), timeout=120)
    assert out.error is None, out.traceback
    proc, url = start_dashboard(cluster.config.path)
    spinning = parked = None
    try:
        with Browser() as page:
            page.open(url)
            # every node, drawn with its state and counters
            assert page.wait_for("Array.from(document.querySelectorAll('#nodes tbody tr'))"
                                 ".filter(r => r.dataset.state === 'up').length === 3")
            assert rows(page, "nodes", "node") == ["n1", "n2", "n3"]
            # the access graph: the 12 Refs, coloured by node, edges weighted
            page.wait_for("window.swarmDashboard.cy.nodes().length === 12 && "
                          "window.swarmDashboard.cy.edges().length > 0")
            colours = page.evaluate("window.swarmDashboard.cy.nodes().map(n => "
                                    "n.data('home') + ' ' + n.data('colour'))")
            assert len({c for c in colours}) == 3, colours  # one colour per node
            widths = page.evaluate("window.swarmDashboard.cy.edges().map(e => e.data('width'))")
            assert len(set(widths)) > 1, widths  # weighted, not all alike
            assert page.evaluate("document.querySelectorAll('#graph canvas').length") > 0
            assert "12 of 12 Refs" in page.evaluate(
                "document.getElementById('graph-summary').textContent")
            # hop rates over time: the chart gets a point per sample
            page.wait_for("window.swarmDashboard.chart.data[0].length >= 3")
            assert page.evaluate("document.querySelectorAll('#hops canvas').length") > 0
            # the hop timeline: the hops the program made before the page was opened, in
            # the chart (a dot each, with its latency) and the newest in the table
            hops = page.wait_for("window.swarmDashboard.snapshot.hops.seen")
            assert hops >= 12, hops
            recent = page.evaluate("window.swarmDashboard.snapshot.hops.recent")
            assert {(h["from"], h["to"]) for h in recent} >= {("n1", "n2"), ("n2", "n3")}
            assert all(h["bytes"] > 0 and h["why"] and h["us"] is not None for h in recent)
            assert any(h["why"].startswith("get n2.") for h in recent), recent
            page.wait_for(f"window.swarmDashboard.timeline.data[0].length === {len(recent)}")
            assert len(rows(page, "hop-list", "hop")) == min(15, len(recent))
            assert page.evaluate("document.querySelectorAll('#timeline-chart canvas').length")

            # programs in flight: one spinning on n2 after a hop, one parked on a future
            page.evaluate("window.__same_page = 42")
            assert page.evaluate("!!document.getElementById('no-fallbacks')")
            spinning = cluster.submit(write(tmp_path, "spin.py", SPIN))
            parked = cluster.submit(write(tmp_path, "parked.sw", PARKED))
            in_list = "Object.fromEntries(Array.from(document.querySelectorAll(" \
                      "'#program-list tbody tr')).map(r => [r.dataset.program, " \
                      "[r.dataset.state, r.querySelector('td.route').textContent]]))"
            page.wait_for(f"(p => p['{spinning}'] && p['{spinning}'][0] === 'running' && "
                          f"p['{parked}'] && p['{parked}'][0] === 'parked')({in_list})")
            listed = page.evaluate(in_list)
            assert listed[spinning][1] == "n1 → n2", listed  # its route so far
            assert listed[parked][1].startswith("n1"), listed
            in_flight = page.evaluate("document.getElementById('in-flight').textContent")
            assert int(re.search(r"(\d+) running", in_flight).group(1)) >= 1, in_flight
            assert int(re.search(r"(\d+) parked", in_flight).group(1)) >= 1, in_flight
            page.wait_for("Array.from(document.querySelectorAll('#nodes td.parked'))"
                          ".some(td => Number(td.textContent) > 0)", timeout=20)
            # its hop to n2, in the timeline
            page.wait_for(f"window.swarmDashboard.snapshot.hops.recent.some(h => h.program "
                          f"=== '{spinning}' && h.from === 'n1' && h.to === 'n2' && "
                          f"h.why === 'create Ref')")

            # the cancel button stops the spinning program where it runs
            page.evaluate(f"document.querySelector('#program-list tr[data-program="
                          f"\"{spinning}\"] button.cancel').click()")
            outcome = page.wait_for(
                "(e => e && !e.textContent.includes('cancelling...') && e.textContent)"
                "(document.getElementById('cancel-outcome'))", timeout=30)
            assert spinning in outcome and "cancelled: stopped where it ran" in outcome, outcome
            page.wait_for(f"!document.querySelector('#program-list tr[data-program="
                          f"\"{spinning}\"]')", timeout=30)
            assert cluster.results([spinning], timeout=30)[spinning].error == \
                "KeyboardInterrupt: cancelled"
            assert parked in page.evaluate(in_list)  # the other one goes on

            # a program that cannot migrate: the fallback and its reason show up
            out = cluster.run_file(write(tmp_path, "fallback.py", FALLBACK), timeout=120)
            assert out.error is None and out.stdout == "2\n", (out.stdout, out.traceback)
            reason = page.wait_for("(t => t && t.textContent)(document.querySelector("
                                   "'#fallbacks tbody td.why'))")
            assert "fallback.py:5" in reason and "C code" in reason, reason

            # more Refs on n3: the table, the graph and the timeline follow, the page is
            # the same page
            n3_refs = "Number(document.querySelector('#nodes tr[data-node=n3] td.refs')" \
                      ".textContent)"
            refs_before = page.evaluate(n3_refs)
            drawn_before = page.evaluate("window.swarmDashboard.cy.nodes().length")
            seen_before = page.evaluate("window.swarmDashboard.snapshot.hops.seen")
            updates = page.evaluate("window.swarmDashboard.updates")
            out = cluster.run_file(write(tmp_path, "more.py", MORE), timeout=120)
            assert out.error is None, out.traceback
            page.wait_for(f"{n3_refs} >= {refs_before + 5}")
            page.wait_for(f"window.swarmDashboard.cy.nodes().length >= {drawn_before + 5}")
            page.wait_for(f"window.swarmDashboard.snapshot.hops.seen > {seen_before}")
            assert page.evaluate("window.swarmDashboard.updates") > updates
            # swarm place: the graph shows the Refs where they went
            homes = "Object.fromEntries(window.swarmDashboard.cy.nodes().map(n => " \
                    "[n.id(), n.data('home')]))"
            before = page.evaluate(homes)
            placed = swarm_cli("place", "--cluster", cluster.config.path)
            assert placed.returncode == 0 and "moves" in placed.stdout, placed.stderr
            moves = int(re.search(r"(\d+) moves", placed.stdout).group(1))
            assert moves > 0, placed.stdout
            page.wait_for(f"(h => Object.keys(h).filter(r => h[r] !== "
                          f"{json.dumps(before)}[r]).length >= {moves})({homes})", timeout=30)
            assert page.evaluate("window.__same_page") == 42  # no reload happened
            assert page.errors == [], page.errors
            shot = os.environ.get("SWARM_DASHBOARD_SCREENSHOT") or str(tmp_path / "page.png")
            page.screenshot(shot)
            assert os.path.getsize(shot) > 20_000
    finally:
        stop(proc)
        for program in (spinning, parked):
            if program is not None:
                with contextlib.suppress(Exception):
                    cluster.cancel(program)


def get(url: str, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path, headers=headers or {})
    return conn.getresponse()


def post(url: str, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("POST", path, body=body, headers=headers)
    answer = conn.getresponse()
    body = answer.read()
    if answer.getheader("Content-Type") == "application/json":
        return answer.status, json.loads(body)
    return answer.status, {"text": body.decode()}


def snapshot(url: str, cookie: str = "") -> dict:
    return json.loads(get(url, "/api/snapshot", {"Cookie": cookie} if cookie else {}).read())


def test_off_loopback_the_page_needs_its_token_and_node_states_show(tmp_path):
    """Down, waiting for a peer, declared gone: each a node's state on the page."""
    with swarm.local_cluster(2, hop_timeout=1.5) as small:
        # on loopback no token, but the Host must be this machine (no DNS rebinding), and
        # a cancel must come from the page: JSON, from this origin
        proc, url = start_dashboard(small.config.path)
        try:
            assert "token" not in url
            assert get(url, "/").status == 200
            assert get(url, "/", {"Host": "attacker.example:80"}).status == 403
            here = url.split("//")[1].rstrip("/")
            body = b'{"program": "c12345-1a2b3c4d-1"}'
            status, said = post(url, "/api/cancel", body, {"Content-Type": "text/plain"})
            assert status == 403 and "JSON" in said["error"], said
            status, said = post(url, "/api/cancel", body, {
                "Content-Type": "application/json", "Origin": "http://attacker.example"})
            assert status == 403, said
            status, said = post(url, "/api/cancel", b'{"id": 1}', {
                "Content-Type": "application/json", "Origin": f"http://{here}"})
            assert status == 400, said
            status, said = post(url, "/api/cancel", body, {
                "Content-Type": "application/json", "Origin": f"http://{here}"})
            assert status == 404 and "no node of the cluster knows" in said["error"], said
        finally:
            stop(proc)
        # 127.0.0.2 is not the default 127.0.0.1: the dashboard makes a token for it
        proc, url = start_dashboard(small.config.path, "--host", "127.0.0.2")
        try:
            assert "?token=" in url
            base, token = url.split("?token=")
            assert get(base, "/").status == 403
            assert get(base, "/api/snapshot").status == 403
            assert get(base, "/?token=wrong").status == 403
            json_post = {"Content-Type": "application/json", "Host": "127.0.0.2"}
            assert post(base, "/api/cancel", b'{"program": "c1-2-3"}', json_post)[0] == 403
            answer = get(base, f"/?token={token}")
            assert answer.status == 303 and answer.getheader("Location") == "/"
            cookie = answer.getheader("Set-Cookie").split(";")[0]
            assert "HttpOnly" in answer.getheader("Set-Cookie")
            page = get(base, "/", {"Cookie": cookie})
            assert page.status == 200 and b"swarm dashboard" in page.read()

            def states():
                return {n["name"]: n["state"] for n in snapshot(base, cookie)["nodes"]}

            assert wait_for(lambda: states() == {"n1": "up", "n2": "up"})
            small.kill("n2")
            assert wait_for(lambda: states() == {"n1": "up", "n2": "down"}, timeout=30)
            # a program whose hop n2 does not acknowledge: n1 waits for n2 (it resends, for
            # as long as it takes: the hop is not failed on a timeout)
            waiting = small.submit(write(tmp_path, "p.py", "from swarm import move_to\n"
                                                            "move_to('n2')\n"))
            assert wait_for(lambda: states() == {"n1": "waiting", "n2": "down"}, timeout=30)
            shown = snapshot(base, cookie)
            assert shown["nodes"][0]["waiting_on"] == ["n2"], shown["nodes"][0]
            assert "waiting for n2 to acknowledge a hop" in shown["nodes"][0]["detail"]
            row = next(r for r in shown["programs"]["rows"] if r["id"] == waiting)
            assert (row["node"], row["state"], row["to"]) == ("n1", "waiting", "n2"), row
            # declared gone: fenced, and its program's outcome is unknown
            gone = swarm_cli("node", "gone", "n2", "--cluster", small.config.path)
            assert gone.returncode == 0, gone.stderr
            assert wait_for(lambda: states() == {"n1": "up", "n2": "fenced"}, timeout=30)
            outcome = small.results([waiting], timeout=30)[waiting]
            assert outcome.error.startswith("NodeGone"), outcome.error
        finally:
            stop(proc)


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB file system of its own (tmpfs; mounting needs root), unmounted after."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def test_a_store_refusing_writes_shows_with_its_cause_until_it_takes_them(tmp_path, small_disk):
    """A real full disk under a node's store: the node says its store refuses writes, the
    page shows why; once there is room again, the write is taken and the program ends."""
    with swarm.local_cluster(2, directory=str(small_disk / "cluster")) as small:
        proc, url = start_dashboard(small.config.path)
        try:
            def n1():
                return snapshot(url)["nodes"][0]

            assert wait_for(lambda: n1()["state"] == "up")
            filler = small_disk / "filler"
            with open(filler, "wb", buffering=0) as f:  # the disk, full
                with contextlib.suppress(OSError):
                    for _ in range(16 * 16 + 1):
                        f.write(b"\0" * 65536)
            program = small.submit(write(tmp_path, "big.py", (
                "from swarm import Ref\nr = Ref(b'x' * 2_000_000)\nprint(len(r.get()))\n")))
            assert wait_for(lambda: n1()["state"] == "store-failing", timeout=30), n1()
            shown = n1()
            assert shown["detail"] == ("its store refuses writes: OperationalError: database "
                                       "or disk is full"), shown
            assert shown["write_failing"] and snapshot(url)["nodes"][1]["state"] == "up"
            filler.unlink()  # room again: the write is taken, the program goes on
            assert wait_for(lambda: n1()["state"] == "up", timeout=30), n1()
            outcome = small.results([program], timeout=60)[program]
            assert outcome.error is None and outcome.stdout == "2000000\n", outcome.error
        finally:
            stop(proc)
