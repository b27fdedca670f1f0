"""swarm.web and the Twitter example, over real HTTP, on three real nodes.

The example runs as `make web` runs it (`python -m swarm.web ... --setup seed.py`, a process of
its own) against the module's cluster; its timeline page is rendered by headless Chromium
(Debian's `chromium`, which `make test` installs)."""

import html.parser
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

import pytest
from helpers import ROOT

import swarm
from swarm.web import App, Starts, serving

TWITTER = os.path.join(ROOT, "examples", "twitter")


@pytest.fixture(scope="module")
def cluster():
    with swarm.local_cluster(3) as c:
        yield c


@pytest.fixture(scope="module")
def twitter(cluster):
    """The example's URL: served by `python -m swarm.web` in a process of its own."""
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarm.web", os.path.join(TWITTER, "app.py"), "--cluster",
         cluster.config.path, "--setup", os.path.join(TWITTER, "seed.py"), "--port", "0"],
        env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        lines = []
        for line in proc.stdout:  # its first lines: the seed's, then where it serves
            lines.append(line)
            if line.startswith("serving "):
                break
        log.seek(0)
        assert lines and lines[-1].startswith("serving "), (lines, log.read())
        assert lines[0] == "demo data: 5 users, 8 follows, 7 posts\n"
        yield lines[-1].split(" at ")[1].split()[0].rstrip("/")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def call(url: str, method: str = "GET", body=None, raw: bytes | None = None):
    """(status, decoded JSON) of one real HTTP request."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_follow_post_and_timeline_over_http(twitter):
    for name in ("tess", "uma", "vic"):
        assert call(f"{twitter}/api/users", "POST", {"name": name})[0] == 201
    assert call(f"{twitter}/api/users", "POST", {"name": "tess"}) == (
        409, {"error": "tess exists already"})
    assert call(f"{twitter}/api/users", "POST", {"name": "Bad Name"})[0] == 400
    assert call(f"{twitter}/api/users", "POST", {"who": "x"}) == (
        400, {"error": "the body is a JSON object with 'name'"})
    assert call(f"{twitter}/api/users", "POST", raw=b"{nope")[0] == 400
    assert call(f"{twitter}/api/follow", "POST", {"user": "tess", "follows": "uma"}) == (
        200, {"user": "tess", "following": ["uma"]})
    assert call(f"{twitter}/api/follow", "POST", {"user": "tess", "follows": "vic"})[1][
        "following"] == ["uma", "vic"]
    assert call(f"{twitter}/api/follow", "POST", {"user": "tess", "follows": "tess"})[0] == 400
    assert call(f"{twitter}/api/follow", "POST", {"user": "tess", "follows": "nobody"}) == (
        404, {"error": "no user nobody"})
    ids = []
    for name, text in [("uma", "one"), ("vic", "two"), ("tess", "mine"), ("uma", "three #T1")]:
        status, post = call(f"{twitter}/api/posts", "POST", {"user": name, "text": text})
        assert status == 201 and (post["user"], post["text"]) == (name, text)
        ids.append(post["id"])
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert call(f"{twitter}/api/posts", "POST", {"user": "uma", "text": " "})[0] == 400
    status, feed = call(f"{twitter}/api/timeline/tess")
    assert status == 200 and [(p["user"], p["text"]) for p in feed["posts"]] == [
        ("uma", "three #T1"), ("vic", "two"), ("uma", "one")]  # followed only, newest first
    assert [p["text"] for p in call(f"{twitter}/api/timeline/tess?limit=2")[1]["posts"]] == [
        "three #T1", "two"]
    assert call(f"{twitter}/api/timeline/tess?limit=x")[0] == 400
    assert call(f"{twitter}/api/timeline/nobody") == (404, {"error": "no user nobody"})
    profile = call(f"{twitter}/api/users/uma")[1]
    assert (profile["followers"], profile["following"], profile["posts"]) == (["tess"], [], 2)
    assert [p["id"] for p in call(f"{twitter}/api/recent?limit=4")[1]["posts"]] == ids[::-1]
    assert "t1" in call(f"{twitter}/api/tags")[1]["tags"]
    assert call(f"{twitter}/api/tags", "DELETE")[0] == 405
    assert call(f"{twitter}/nowhere") == (404, {"error": "nothing at /nowhere"})


def test_concurrent_posts_all_land(twitter):
    """20 clients post as one user at once: every post is kept (an atomic update of the
    user's posts, where they live) and every id is different (an atomic increment)."""
    assert call(f"{twitter}/api/users", "POST", {"name": "busy"})[0] == 201
    answers = []
    start = threading.Barrier(20)

    def post(i):
        start.wait()
        answers.append(call(f"{twitter}/api/posts", "POST", {"user": "busy", "text": f"#{i}"}))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in answers] == [201] * 20
    assert len({post["id"] for _, post in answers}) == 20
    assert call(f"{twitter}/api/users/busy")[1]["posts"] == 20


class Posts(html.parser.HTMLParser):
    """The (author, text) of each <li class="post"> of a page, in order; body attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[list[str]] = []
        self.body: dict = {}
        self.field: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        elif tag == "li" and attrs.get("class") == "post":
            self.posts.append(["", ""])
        elif self.posts and attrs.get("class") in ("author", "text"):
            self.field = attrs["class"]

    def handle_endtag(self, tag):
        self.field = None

    def handle_data(self, data):
        if self.field:
            self.posts[-1][0 if self.field == "author" else 1] += data


def chromium_dom(url: str) -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("SWARM_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is not installed (`make test` installs it)")
        pytest.skip("chromium is not installed (`make test` installs it)")
    with tempfile.TemporaryDirectory(prefix="swarm-chromium-") as profile:
        done = subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=30000",
             "--dump-dom", url], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_chromium_renders_the_timeline_newest_first(twitter):
    for name in ("wes", "xia", "yan"):
        call(f"{twitter}/api/users", "POST", {"name": name})
    for other in ("xia", "yan"):
        call(f"{twitter}/api/follow", "POST", {"user": "wes", "follows": other})
    for name, text in [("xia", "first <b>not bold</b>"), ("yan", "second"), ("xia", "third")]:
        assert call(f"{twitter}/api/posts", "POST", {"user": name, "text": text})[0] == 201
    page = Posts()
    page.feed(chromium_dom(f"{twitter}/u/wes"))
    assert page.body.get("data-loaded") == "3"  # the script fetched the API and rendered it
    assert page.posts == [["@xia", "third"], ["@yan", "second"], ["@xia", "first <b>not bold</b>"]]
    home = Posts()
    home.feed(chromium_dom(f"{twitter}/"))  # rendered on the cluster: the latest posts
    assert home.posts[:3] == page.posts


@pytest.fixture(scope="module")
def testapp(cluster):
    with serving(os.path.join(ROOT, "tests", "webapp", "app.py"), cluster.config.path,
                 workers=4) as server:
        yield server


def test_concurrent_requests_run_concurrently(testapp):
    """Each of two requests waits until the other has arrived: served one after the other,
    the first would never finish."""
    testapp = testapp.url
    answers = {}
    threads = [threading.Thread(target=lambda a, b: answers.update({a: call(
        f"{testapp}/meet/{a}/{b}")}), args=pair) for pair in (("ann", "bo"), ("bo", "ann"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers["ann"][0] == answers["bo"][0] == 200, answers
    assert answers["ann"][1]["met"] == "bo" and answers["bo"][1]["met"] == "ann"


def test_requests_errors_and_bad_apps(testapp, cluster, tmp_path):
    testapp = testapp.url
    status, answer = call(f"{testapp}/fail")
    assert status == 500 and answer["error"] == "ZeroDivisionError: division by zero"
    assert call(f"{testapp}/echo?x=1&y=2", "POST", {"a": [1, 2]}) == (
        200, {"json": {"a": [1, 2]}, "query": {"x": "1", "y": "2"}, "method": "POST"})
    assert call(f"{testapp}/echo", "POST", raw=b"x" * ((1 << 20) + 1))[0] == 413
    with pytest.raises(FileNotFoundError):
        App(str(tmp_path / "missing.py"), cluster.config.path)
    (tmp_path / "bad-name.py").write_text("")
    with pytest.raises(ValueError):
        App(str(tmp_path / "bad-name.py"), cluster.config.path)


def test_requests_start_where_their_data_took_the_last_ones(testapp, cluster):
    """The front end starts a path's requests on the node its last ones moved to: once it
    has learned, a request that goes to n3 starts there and makes no hop."""
    starts = testapp.get_app().starts
    for _ in range(3):  # (from its worker's node; from n3 on once learned)
        assert call(f"{testapp.url}/visit/n3") == (200, {"on": "n3"})
    assert starts.node(("GET", "/visit/n3")) == "n3"
    hops = sum(row["hops_in"] for row in cluster.status())
    for _ in range(3):
        assert call(f"{testapp.url}/visit/n3") == (200, {"on": "n3"})
    assert sum(row["hops_in"] for row in cluster.status()) == hops


def quick_counts(cluster) -> dict:
    rows = cluster.status()
    return {k: sum(row["quick"].get(k, 0) for row in rows) for k in ("started", "taken", "unwritten")}


def test_a_request_that_only_reads_is_not_written_one_that_writes_is_kept(testapp, cluster):
    """Requests are quick submissions (swarm/node/machine/quick.py): one that only reads
    answers without a write; one that writes is taken before its write, which survives its
    node's SIGKILL and restart."""
    url = testapp.url
    before = quick_counts(cluster)
    assert call(f"{url}/note/a", "POST", {"text": "kept", "n": 2}) == (200, {"kept": "a"})
    middle = quick_counts(cluster)  # (quick unless its worker's first submit to that node,
    assert middle["taken"] - before["taken"] == middle["started"] - before["started"]  # ...
    assert middle["unwritten"] == before["unwritten"]  # ... which carries the sources)
    for _ in range(8):  # (the first may hop to the note: taken; then they start there)
        assert call(f"{url}/note/a") == (200, {"note": {"text": "kept", "n": 2}})
    middle = quick_counts(cluster)
    for _ in range(6):
        assert call(f"{url}/note/a") == (200, {"note": {"text": "kept", "n": 2}})
    after = quick_counts(cluster)
    assert after["started"] >= middle["started"] + 2, (middle, after)  # (quick: 2 of 4 at
    assert after["unwritten"] - middle["unwritten"] == after["started"] - middle["started"]
    assert after["taken"] == middle["taken"]  # (least, if each worker's first went here)
    home, asked = testapp.get_app().starts.by_key[("GET", "/note/a")][:2]
    assert asked == 0  # (it starts where the note is: the nodes its first ones asked said)
    cluster.kill(home)
    cluster.restart(home)
    cluster.wait_ready()
    assert call(f"{url}/note/a") == (200, {"note": {"text": "kept", "n": 2}})


def test_starts_keep_the_start_with_fewest_hops():
    """Starts tries the first node a route moved to, and keeps whichever start hopped less."""
    starts, key = Starts(), ("GET", "/timeline/ada")
    assert starts.node(key) is None
    starts.learn(key, ["n1", "n2"])  # from n1: 1 hop, to n2; n2 is tried next
    assert starts.node(key) == "n2"
    starts.learn(key, ["n2", "n1", "n2"])  # from n2: 2 hops (n1 held the first data)
    assert starts.node(key) == "n1"  # n1 kept; n2 refuted: not tried again ...
    starts.learn(key, ["n1", "n2"])
    assert starts.node(key) == "n1"
    starts.learn(key, ["n1", "n3"])  # another first move (n3) is tried ...
    assert starts.node(key) == "n3"
    starts.learn(key, ["n3", "n1"])  # ... and refuted: as many hops as from n1
    assert starts.node(key) == "n1"
    starts.learn(key, ["n1", "n2", "n3"])  # the data moved (2 hops now): n2 tried again
    assert starts.node(key) == "n2"
    starts.learn(key, ["n2", "n3"])  # fewer hops from n2: kept
    assert starts.node(key) == "n2"
    starts.learn(key, ["n2", "n3"])  # and n3, where it moves to, tried
    assert starts.node(key) == "n3"
    starts.learn(key, ["n3"])  # no hop at all: kept, nothing more to try
    starts.learn(key, ["n3"])
    assert starts.node(key) == "n3"


def test_starts_count_the_questions_a_request_asked():
    """A request that stays where it started (the fetch policy: swarm.web's GETs) and asks
    other nodes for data: each question counts as a hop, and the node asked most is tried."""
    starts, key = Starts(), ("GET", "/timeline/ada")
    starts.learn(key, ["n1"], ["n2", "n3", "n2"])  # 3 questions, n2 asked most: tried
    assert starts.node(key) == "n2"
    starts.learn(key, ["n2"], ["n1"])  # 1 question from n2: kept
    assert starts.node(key) == "n2"
    starts.learn(key, ["n2"], ["n1"])  # n1, asked from there, is tried in turn ...
    assert starts.node(key) == "n1"
    starts.learn(key, ["n1"], ["n2", "n3", "n2"])  # ... and refuted
    assert starts.node(key) == "n2"
    starts.learn(key, ["n2"], ["n1"])
    assert starts.node(key) == "n2"
    starts.learn(key, ["n2"], [])  # none at all now (the data moved): kept
    assert starts.node(key) == "n2" and starts.by_key[key][1] == 0


def test_reads_fetch_stay_where_they_start_and_learn_from_their_questions(testapp, cluster):
    """`reads="fetch"`: a GET stays on the node it started on and asks for the note (its
    result names the node asked), ends there unwritten, and the next ones start where the
    note is and ask nothing."""
    assert call(f"{testapp.url}/note/f", "POST", {"text": "far"}) == (200, {"kept": "f"})
    app = App(os.path.join(ROOT, "tests", "webapp", "app.py"), cluster.config.path,
              reads="fetch")
    try:
        def get(path):
            answer = []
            body = app({"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
                        "wsgi.input": None}, lambda status, headers: answer.append(status))
            return answer[0], json.loads(b"".join(body))

        before = quick_counts(cluster)
        for _ in range(4):
            assert get("/note/f") == ("200 OK", {"note": {"text": "far"}})
        after = quick_counts(cluster)
        assert after["unwritten"] - before["unwritten"] == 4  # (no hop: nothing taken)
        assert after["taken"] == before["taken"]
        start, asked = app.starts.by_key[("GET", "/note/f")][:2]
        assert asked == 0 and start in cluster.config.names
    finally:
        app.close()
    with pytest.raises(ValueError):
        App(os.path.join(ROOT, "tests", "webapp", "app.py"), cluster.config.path, reads="x")
