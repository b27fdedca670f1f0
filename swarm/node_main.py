"""The node process: `swarm-node --config cluster.toml --name n1` (or `python -m
swarm.node_main ...`).

The composition root of a node: the shell (swarm/node/shell.py) with everything a program
may need registered first - the Skywriting translator, so that a `.sw` script compiles on a
node like a Python one. The node package itself imports nothing above it.

Discussion: the node's code must not run as the module `__main__` - that is the name of the
programs' own scripts, and the kernel tells a program's frames from the node's by their
module's name (kernel._preemptible) - so this module only imports the shell and calls it.
"""

import sys

import swarm.skywriting  # noqa: F401 - registers the `.sw` translator with the compiler
from swarm.node.shell import main

if __name__ == "__main__":
    sys.exit(main())
