"""The live dashboard of a cluster: `swarm dashboard [--dir D | --cluster F] [--port P]`.

    sampler.py   asks the nodes (`status?` each second, `stats?` every few) and publishes
                 snapshots: nodes, hop rates, the access graph and the placer's plan
    server.py    HTTP (standard library): the page, its files, /api/snapshot, /api/events
                 (server-sent events); a token when bound to anything but loopback
    static/      the page: Preact + htm, uPlot and Cytoscape.js, vendored (VENDORED.md)

docs/dashboard.md describes the page.
"""

from swarm.dashboard.server import serve

__all__ = ["serve"]
