"""A small Twitter on Swarm: users, follow, post, and a timeline of the posts of the users one
follows, newest first - an HTML page and a JSON API, with everything stored in Swarm
collections spread over the cluster's nodes.

    $ make web            # 3 local nodes, demo data (seed.py), http://127.0.0.1:8000/
    $ python -m swarm.web examples/twitter/app.py --cluster .swarm/cluster.toml

Every request runs as a program on the cluster (swarm/web.py): `timeline` below moves to the
node holding the user's `following` list, then to each followed user's posts in turn, and
answers from the last one. `swarm place` then puts the posts of users read together on one
node, and a timeline request hops less (bench/web.py measures it).

JSON API (bodies are JSON; errors answer {"error": "..."} with 400, 404, 405 or 409):

    POST /api/users            {"name": "ada"}                  201 the user
    GET  /api/users/<name>     the user, whom they follow, their followers, their post count
    POST /api/follow           {"user": "ada", "follows": "bob"} the list ada follows
    POST /api/posts            {"user": "bob", "text": "hi #bees"} 201 the post
    GET  /api/timeline/<name>  {"user", "posts": [...]}: the followed users' posts, newest
                               first (?limit=N, default 20)
    GET  /api/recent           every user's posts, newest first (?limit=N)
    GET  /api/tags             the #hashtags used, sorted

Pages: / (users, recent posts, tags, a form to join) and /u/<name> (the timeline, rendered by
JavaScript from the API, with forms to post and to follow).
"""
import re
import time

import pages

from swarm import Dict, List, Set
from swarm.web import HTTPError, Response, Router

app = Router()

users = Dict("twitter.users")  # name -> {"name", "joined"}
following = Dict("twitter.following")  # name -> sorted names they follow
followers = Dict("twitter.followers")  # name -> sorted names following them
posts = Dict("twitter.posts")  # name -> their newest KEEP posts, oldest first
counters = Dict("twitter.counters")  # "posts" -> the last post id given out
recent = List("twitter.recent")  # every post, in the order they were posted
tags = Set("twitter.tags")  # every #hashtag used

KEEP = 50  # posts kept per user
NAME = re.compile(r"[a-z0-9_]{1,20}")


# ---- what the handlers (and seed.py) do -----------------------------------------------------

def create_user(name: str) -> dict:
    name = check_name(name)
    now = round(time.time(), 3)
    user = users.update(name, lambda old: old or {"name": name, "joined": now})
    if user["joined"] != now:
        raise HTTPError(409, f"{name} exists already")
    return user


def add_follow(name: str, other: str) -> list:
    name, other = check_name(name), check_name(other)
    if name == other:
        raise HTTPError(400, "one does not follow oneself")
    for who in (name, other):
        if who not in users:
            raise HTTPError(404, f"no user {who}")
    followers.update(other, lambda old: sorted(set(old) | {name}), [])
    return following.update(name, lambda old: sorted(set(old) | {other}), [])


def add_post(name: str, text: str) -> dict:
    name = check_name(name)
    text = " ".join(str(text).split())
    if not 1 <= len(text) <= 280:
        raise HTTPError(400, "a post has 1 to 280 characters")
    if name not in users:
        raise HTTPError(404, f"no user {name}")
    post = {"id": counters.increment("posts"), "user": name, "text": text,
            "at": round(time.time(), 3)}
    posts.update(name, lambda old: (old + [post])[-KEEP:], [])
    recent.append(post)
    for tag in re.findall(r"#(\w+)", text):
        tags.add(tag.lower())
    return post


def newest(post: dict) -> int:
    return post["id"]


def timeline_of(name: str, limit: int) -> list:
    """The newest `limit` posts of the users `name` follows. The program visits each followed
    user's posts where they live, and carries only the newest `limit` posts along."""
    followed = following.get(name)
    if followed is None:
        if name not in users:
            raise HTTPError(404, f"no user {name}")
        followed = []
    feed = []
    for other in followed:
        feed.extend(posts.get(other, [])[-limit:])
        feed = sorted(feed, key=newest, reverse=True)[:limit]
    return feed


def check_name(name) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise HTTPError(400, f"a user name is 1 to 20 of a-z, 0-9 and _: {name!r}")
    return name


def limit_of(request) -> int:
    try:
        limit = int(request.query.get("limit", 20))
    except ValueError:
        raise HTTPError(400, "limit is a number") from None
    if not 1 <= limit <= 200:
        raise HTTPError(400, "limit is from 1 to 200")
    return limit


def field(body, name: str):
    if not isinstance(body, dict) or name not in body:
        raise HTTPError(400, f"the body is a JSON object with {name!r}")
    return body[name]


# ---- the JSON API -------------------------------------------------------------------------

@app.route("POST", "/api/users")
def api_create_user(request):
    return Response(create_user(field(request.json(), "name")), 201)


@app.route("GET", "/api/users/<name>")
def api_user(request, name):
    user = users.get(check_name(name))
    if user is None:
        raise HTTPError(404, f"no user {name}")
    return {**user, "following": following.get(name, []), "followers": followers.get(name, []),
            "posts": len(posts.get(name, []))}


@app.route("POST", "/api/follow")
def api_follow(request):
    body = request.json()
    name = field(body, "user")
    return {"user": name, "following": add_follow(name, field(body, "follows"))}


@app.route("POST", "/api/posts")
def api_post(request):
    body = request.json()
    return Response(add_post(field(body, "user"), field(body, "text")), 201)


@app.route("GET", "/api/timeline/<name>")
def api_timeline(request, name):
    return {"user": name, "posts": timeline_of(check_name(name), limit_of(request))}


@app.route("GET", "/api/recent")
def api_recent(request):
    return {"posts": recent[-limit_of(request):][::-1]}


@app.route("GET", "/api/tags")
def api_tags(request):
    return {"tags": sorted(tags)}


# ---- pages --------------------------------------------------------------------------------

@app.route("GET", "/")
def home(request):
    return pages.home(sorted(users.keys()), recent[-10:][::-1], sorted(tags))


@app.route("GET", "/u/<name>")
def user_page(request, name):
    if check_name(name) not in users:
        raise HTTPError(404, f"no user {name}")
    return pages.timeline(name)
