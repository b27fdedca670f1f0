"""The HTML of the Twitter example (app.py): the home page, rendered here, and a user's timeline
page, rendered in the browser from the JSON API."""
from html import escape

STYLE = """
body { font: 15px/1.4 system-ui, sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.5em; } a { color: #1d6fa5; } .muted { color: #777; }
ol.posts { list-style: none; padding: 0; }
li.post { border-bottom: 1px solid #ddd; padding: .5em 0; }
.author { font-weight: bold; } form { margin: 1em 0; } textarea { width: 100%; }
"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")


def _post_item(post: dict) -> str:
    return (f"<li class='post' data-id='{post['id']}'><a class='author' href='/u/"
            f"{escape(post['user'])}'>@{escape(post['user'])}</a> "
            f"<span class='text'>{escape(post['text'])}</span></li>")


def home(names: list, latest: list, tags: list) -> str:
    people = "".join(f"<li><a href='/u/{escape(n)}'>@{escape(n)}</a></li>" for n in names)
    body = f"""
<h1>Swarm Twitter</h1>
<p class="muted">Every request runs as a program on the cluster; the data lives in Swarm
collections spread over its nodes.</p>
<h2>People</h2><ul id="people">{people or "<li class='muted'>nobody yet</li>"}</ul>
<form id="join"><input name="name" placeholder="a-z, 0-9, _" required>
<button>Join</button> <span id="joined" class="muted"></span></form>
<h2>Latest posts</h2><ol class="posts">{"".join(_post_item(p) for p in latest)}</ol>
<h2>Tags</h2><p id="tags">{" ".join("#" + escape(t) for t in tags)}</p>
<script>
document.getElementById("join").onsubmit = async (e) => {{
  e.preventDefault();
  const name = e.target.name.value;
  const r = await fetch("/api/users", {{method: "POST", body: JSON.stringify({{name}})}});
  const answer = await r.json();
  if (r.ok) location.href = "/u/" + name;
  else document.getElementById("joined").textContent = answer.error;
}};
</script>"""
    return _page("Swarm Twitter", body)


def timeline(name: str) -> str:
    """The timeline page of `name`: the script fetches /api/timeline/<name> and /api/users/
    <name> and renders them (body[data-loaded] says when it has)."""
    body = f"""
<p><a href="/">Swarm Twitter</a></p>
<h1>@<span id="user">{escape(name)}</span></h1>
<p id="profile" class="muted"></p>
<form id="post"><textarea name="text" rows="2" maxlength="280"
placeholder="What is happening?"></textarea><button>Post</button></form>
<form id="follow"><input name="follows" placeholder="a user to follow">
<button>Follow</button> <span id="message" class="muted"></span></form>
<h2>Timeline</h2>
<ol id="timeline" class="posts"></ol>
<script>
const user = {name!r};
async function api(path, body) {{
  const r = await fetch(path, body ? {{method: "POST", body: JSON.stringify(body)}} : {{}});
  const answer = await r.json();
  if (!r.ok) throw new Error(answer.error);
  return answer;
}}
function item(post) {{
  const li = document.createElement("li");
  li.className = "post";
  li.dataset.id = post.id;
  const a = document.createElement("a");
  a.className = "author"; a.href = "/u/" + post.user; a.textContent = "@" + post.user;
  const text = document.createElement("span");
  text.className = "text"; text.textContent = post.text;
  li.append(a, " ", text);
  return li;
}}
async function load() {{
  const [feed, profile] = await Promise.all([api("/api/timeline/" + user),
                                             api("/api/users/" + user)]);
  document.getElementById("timeline").replaceChildren(...feed.posts.map(item));
  document.getElementById("profile").textContent =
    `follows ${{profile.following.length}}, followed by ${{profile.followers.length}}, ` +
    `${{profile.posts}} posts`;
  document.body.dataset.loaded = feed.posts.length;
}}
function act(form, send) {{
  document.getElementById(form).onsubmit = async (e) => {{
    e.preventDefault();
    try {{ await send(e.target); e.target.reset(); await load(); }}
    catch (err) {{ document.getElementById("message").textContent = err.message; }}
  }};
}}
act("post", (f) => api("/api/posts", {{user, text: f.text.value}}));
act("follow", (f) => api("/api/follow", {{user, follows: f.follows.value}}));
load().catch((err) => {{ document.body.dataset.loaded = "error: " + err.message; }});
</script>"""
    return _page("@" + name, body)
