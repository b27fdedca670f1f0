"""The Twitter example's JSON API as a Flask user would write it: Flask + SQLite, on gunicorn.

The peer of bench/web.py: the same routes, bodies, answers and errors as examples/twitter/app.py
(its docstring lists them), on one SQLite file instead of Swarm collections. Plain SQL, one
transaction per write request, and what a user would add for a read-mostly table on a
multi-process server: WAL mode (readers do not wait for the writer), `synchronous=NORMAL` (what
WAL is usually paired with, and what Swarm's nodes use), a busy timeout, and an index per lookup
the routes make - posts by (user, id) for a timeline, follows by either side.

Discussion: Flask's tutorial opens a connection per request (kept in `flask.g`, closed when the
request ends). Measured here that costs 0.47 ms a request (SQLite reads the schema again on
every open; the timeline query itself takes 0.05 ms), half of what the rest of a request
costs, so a user who measures keeps one connection per worker thread, as this does: the peer
is the faster of the two ways, not the tutorial's. The pages (/, /u/<name>) are left out: the bench drives the API only.

One difference of storage, not of answers: the example keeps the newest 50 posts of a user
(its timelines show at most the newest 20 of each, so it never needs more); here every post is
kept, as a table would, and `GET /api/users/<name>` counts all of them.

    python -m bench.baselines.twitter_flask init DB       # make the schema (once)
    TWITTER_DB=DB gunicorn -w 5 bench.baselines.twitter_flask:app

Standard library and Flask only: it runs in the peer venv of bench.peers ("web").
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import threading
import time

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

app = Flask(__name__)
_local = threading.local()  # a connection per thread (per process with sync workers)
NAME = re.compile(r"[a-z0-9_]{1,20}")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, joined REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS follows (user TEXT NOT NULL, follows TEXT NOT NULL,
                                    PRIMARY KEY (user, follows)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS follows_by_followed ON follows (follows, user);
CREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
                                  text TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS posts_by_user ON posts (user, id);
CREATE TABLE IF NOT EXISTS tags (tag TEXT PRIMARY KEY) WITHOUT ROWID;
"""


class APIError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@app.errorhandler(APIError)
def api_error(exc: APIError):
    return jsonify(error=exc.message), exc.status


@app.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return jsonify(error=exc.description), exc.code


def connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=10)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def get_db() -> sqlite3.Connection:
    """This thread's connection, opened on its first request and kept (see the docstring)."""
    db = getattr(_local, "db", None)
    if db is None:
        db = _local.db = connect(os.environ["TWITTER_DB"])
    return db


def init_db(path: str) -> None:
    db = connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    db.close()


def check_name(name) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise APIError(400, f"a user name is 1 to 20 of a-z, 0-9 and _: {name!r}")
    return name


def field(name: str):
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or name not in body:
        raise APIError(400, f"the body is a JSON object with {name!r}")
    return body[name]


def limit_arg() -> int:
    try:
        limit = int(request.args.get("limit", 20))
    except ValueError:
        raise APIError(400, "limit is a number") from None
    if not 1 <= limit <= 200:
        raise APIError(400, "limit is from 1 to 200")
    return limit


def exists(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is not None


def following_of(db: sqlite3.Connection, name: str) -> list:
    return [r[0] for r in db.execute("SELECT follows FROM follows WHERE user = ? ORDER BY follows",
                                     (name,))]


def post_dict(row) -> dict:
    return {"id": row[0], "user": row[1], "text": row[2], "at": row[3]}


@app.post("/api/users")
def api_create_user():
    name = check_name(field("name"))
    db = get_db()
    now = round(time.time(), 3)
    try:
        with db:
            db.execute("INSERT INTO users (name, joined) VALUES (?, ?)", (name, now))
    except sqlite3.IntegrityError:
        raise APIError(409, f"{name} exists already") from None
    return jsonify(name=name, joined=now), 201


@app.get("/api/users/<name>")
def api_user(name):
    db = get_db()
    row = db.execute("SELECT name, joined FROM users WHERE name = ?",
                     (check_name(name),)).fetchone()
    if row is None:
        raise APIError(404, f"no user {name}")
    followers = [r[0] for r in db.execute(
        "SELECT user FROM follows WHERE follows = ? ORDER BY user", (name,))]
    count = db.execute("SELECT count(*) FROM posts WHERE user = ?", (name,)).fetchone()[0]
    return {"name": row[0], "joined": row[1], "following": following_of(db, name),
            "followers": followers, "posts": count}


@app.post("/api/follow")
def api_follow():
    name, other = check_name(field("user")), check_name(field("follows"))
    if name == other:
        raise APIError(400, "one does not follow oneself")
    db = get_db()
    with db:
        for who in (name, other):
            if not exists(db, who):
                raise APIError(404, f"no user {who}")
        db.execute("INSERT OR IGNORE INTO follows (user, follows) VALUES (?, ?)", (name, other))
    return {"user": name, "following": following_of(db, name)}


@app.post("/api/posts")
def api_post():
    name = check_name(field("user"))
    text = " ".join(str(field("text")).split())
    if not 1 <= len(text) <= 280:
        raise APIError(400, "a post has 1 to 280 characters")
    db = get_db()
    at = round(time.time(), 3)
    with db:
        if not exists(db, name):
            raise APIError(404, f"no user {name}")
        cur = db.execute("INSERT INTO posts (user, text, at) VALUES (?, ?, ?)", (name, text, at))
        db.executemany("INSERT OR IGNORE INTO tags (tag) VALUES (?)",
                       [(t.lower(),) for t in re.findall(r"#(\w+)", text)])
    return jsonify(id=cur.lastrowid, user=name, text=text, at=at), 201


@app.get("/api/timeline/<name>")
def api_timeline(name):
    name, limit, db = check_name(name), limit_arg(), get_db()
    rows = db.execute(
        "SELECT p.id, p.user, p.text, p.at FROM follows f JOIN posts p ON p.user = f.follows "
        "WHERE f.user = ? ORDER BY p.id DESC LIMIT ?", (name, limit)).fetchall()
    if not rows and not exists(db, name):
        raise APIError(404, f"no user {name}")
    return {"user": name, "posts": [post_dict(r) for r in rows]}


@app.get("/api/recent")
def api_recent():
    rows = get_db().execute("SELECT id, user, text, at FROM posts ORDER BY id DESC LIMIT ?",
                            (limit_arg(),))
    return {"posts": [post_dict(r) for r in rows]}


@app.get("/api/tags")
def api_tags():
    return {"tags": [r[0] for r in get_db().execute("SELECT tag FROM tags ORDER BY tag")]}


if __name__ == "__main__":
    if sys.argv[1:2] != ["init"] or len(sys.argv) != 3:
        sys.exit("usage: python -m bench.baselines.twitter_flask init DB")
    init_db(sys.argv[2])
