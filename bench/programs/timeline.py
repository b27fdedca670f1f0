"""Timeline requests of the placement bench (bench/placement.py), run on the cluster.

argv[1]: JSON list of [ref id, hint], the posts Ref of every user (by user index);
argv[2]: JSON list of requests [user, [users they follow]].
The program starts at the front end, n1 (where `swarm run` submits it), reads the posts of
everyone the user follows and keeps the newest few; the answer goes to the client from the node
where the program ends, as every program's result does. RESULT: [[user, newest posts], ...].
(The bench runs one request per program, so every request starts at n1.)
"""
import json
import sys

from swarm.refs import Ref

NEWEST = 5

posts = [Ref._handle(*h) for h in json.loads(sys.argv[1])]
timelines = []
for user, follows in json.loads(sys.argv[2]):
    feed = []
    for v in follows:
        feed.extend(posts[v].get())
    feed.sort(reverse=True)
    timelines.append([user, feed[:NEWEST]])
RESULT = timelines
