"""Requests of the key-value bench (bench/kv.py), run on the cluster.

argv[1]: JSON list of [ref id, hint], one Ref per key (by key index), each holding
[counter, payload]; argv[2]: JSON list of requests, each a list of key indices.
A request reads every key it names and increments its counter, where the key lives (the
program moves there). RESULT: the counters each request saw, after its increments.
"""
import json
import sys

from swarm.refs import Ref

keys = [Ref._handle(*h) for h in json.loads(sys.argv[1])]
seen = []
for request in json.loads(sys.argv[2]):
    counters = []
    for k in request:
        count, payload = keys[k].get()
        keys[k].set([count + 1, payload])
        counters.append(count + 1)
    seen.append(counters)
RESULT = seen
