"""A web app for tests/test_web.py: two requests that can only both finish if they run at
the same time, one that goes to a node, notes written and read, and a handler that fails."""
from swarm import Dict, here, move_to, nodes
from swarm.web import HTTPError, Router

app = Router()
arrived = Dict("webtest.arrived")
notes = Dict("webtest.notes")

ROUNDS = 20_000


@app.route("GET", "/meet/<name>/<other>")
def meet(request, name, other):
    """Say `name` arrived, then wait - hopping round the nodes, so that every node goes on
    serving - until `other` has arrived too."""
    arrived.set(name, True)
    for i in range(ROUNDS):
        if arrived.get(other, False):
            return {"name": name, "met": other, "on": here()}
        move_to(nodes()[i % len(nodes())])
    raise HTTPError(500, f"{other} never came: requests do not run concurrently")


@app.route("GET", "/visit/<node>")
def visit(request, node):
    """Go to `node` (a hop, unless the request started there) and say where it is."""
    if here() != node:
        move_to(node)
    return {"on": here()}


@app.route("POST", "/note/<key>")
def write_note(request, key):
    notes.set(key, request.json())
    return {"kept": key}


@app.route("GET", "/note/<key>")
def read_note(request, key):
    return {"note": notes.get(key)}


@app.route("GET", "/fail")
def fail(request):
    return 1 / 0


@app.route("POST", "/echo")
def echo(request):
    return {"json": request.json(), "query": request.query, "method": request.method}
