"""`swarm dashboard`, as an operator uses it: the command started as a process of its own
against a running cluster, its page opened in headless Chromium (Debian's, which `make test`
installs) while programs run, and looked at again and again as the cluster changes - nodes,
hop rates, programs parked, the access graph - without a reload. And who may see it: a token
off loopback, this machine's name only on loopback."""

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
out = exec("stdinout", {"inputs": [], "command_line": ["sleep", "8"]}, 1);
return *out[0];
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


def test_the_page_draws_the_cluster_and_follows_it_without_a_reload(cluster, tmp_path):
    if chromium() is None:
        if os.environ.get("SWARM_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is not installed (`make test` installs it)")
        pytest.skip("chromium is not installed (`make test` installs it)")
    out = cluster.run_file(write(tmp_path, "work.py", WORK), timeout=120)
    assert out.error is None, out.traceback
    proc, url = start_dashboard(cluster.config.path)
    try:
        with Browser() as page:
            page.open(url)
            # every node, drawn with its state and counters
            assert page.wait_for("Array.from(document.querySelectorAll('#nodes tbody tr'))"
                                 ".filter(r => r.dataset.state === 'up').length === 3")
            assert page.evaluate("Array.from(document.querySelectorAll('#nodes tbody tr'))"
                                 ".map(r => r.dataset.node)") == ["n1", "n2", "n3"]
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
            # the phase 2 panels are there, waiting for the nodes' answers
            for panel in ("#program-list", "#hop-list"):
                assert page.evaluate(f"!!document.querySelector('{panel}')")

            # a program parked on a future shows up while it waits
            page.evaluate("window.__same_page = 42")
            waiting = cluster.submit(write(tmp_path, "parked.sw", PARKED))
            page.wait_for("Array.from(document.querySelectorAll('#nodes td.parked'))"
                          ".some(td => Number(td.textContent) > 0)", timeout=20)
            in_flight = page.evaluate("document.getElementById('in-flight').textContent")
            assert int(re.search(r"(\d+) parked", in_flight).group(1)) >= 1, in_flight

            # more Refs on n3: the table and the graph follow, the page is the same page
            n3_refs = "Number(document.querySelector('#nodes tr[data-node=n3] td.refs')" \
                      ".textContent)"
            refs_before = page.evaluate(n3_refs)
            drawn_before = page.evaluate("window.swarmDashboard.cy.nodes().length")
            updates = page.evaluate("window.swarmDashboard.updates")
            out = cluster.run_file(write(tmp_path, "more.py", MORE), timeout=120)
            assert out.error is None, out.traceback
            page.wait_for(f"{n3_refs} >= {refs_before + 5}")
            page.wait_for(f"window.swarmDashboard.cy.nodes().length >= {drawn_before + 5}")
            assert page.evaluate("window.swarmDashboard.updates") > updates
            # swarm place: the graph shows the Refs where they went, and fewer hops cut
            cut = "window.swarmDashboard.snapshot.graph.cut_now"
            page.wait_for(f"{cut} > 0")
            before = page.evaluate(cut)
            placed = swarm_cli("place", "--cluster", cluster.config.path)
            assert placed.returncode == 0 and "moves" in placed.stdout, placed.stderr
            page.wait_for(f"{cut} < {before}", timeout=30)
            assert page.evaluate("window.__same_page") == 42  # no reload happened
            shot = os.environ.get("SWARM_DASHBOARD_SCREENSHOT") or str(tmp_path / "page.png")
            page.screenshot(shot)
            assert os.path.getsize(shot) > 20_000
        outcome = cluster.results([waiting], timeout=60)[waiting]
        assert outcome.error is None and outcome.value == ""
    finally:
        stop(proc)


def get(url: str, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path, headers=headers or {})
    return conn.getresponse()


def test_off_loopback_the_page_needs_its_token_and_a_node_down_shows(tmp_path):
    with swarm.local_cluster(2) as small:
        # 127.0.0.2 is not the default 127.0.0.1: the dashboard makes a token for it
        proc, url = start_dashboard(small.config.path, "--host", "127.0.0.2")
        try:
            assert "?token=" in url
            base, token = url.split("?token=")
            assert get(base, "/").status == 403
            assert get(base, "/api/snapshot").status == 403
            assert get(base, "/?token=wrong").status == 403
            answer = get(base, f"/?token={token}")
            assert answer.status == 303 and answer.getheader("Location") == "/"
            cookie = answer.getheader("Set-Cookie").split(";")[0]
            assert "HttpOnly" in answer.getheader("Set-Cookie")
            page = get(base, "/", {"Cookie": cookie})
            assert page.status == 200 and b"swarm dashboard" in page.read()

            def states():
                body = get(base, "/api/snapshot", {"Cookie": cookie}).read()
                return {n["name"]: n["state"] for n in json.loads(body)["nodes"]}

            assert wait_for(lambda: states() == {"n1": "up", "n2": "up"})
            small.kill("n2")
            assert wait_for(lambda: states() == {"n1": "up", "n2": "down"}, timeout=30)
        finally:
            stop(proc)
        # on loopback no token, but the Host must be this machine (no DNS rebinding)
        proc, url = start_dashboard(small.config.path)
        try:
            assert "token" not in url
            assert get(url, "/").status == 200
            assert get(url, "/", {"Host": "attacker.example:80"}).status == 403
        finally:
            stop(proc)
