"""`python -m swarm.node --config cluster.toml --name n1`: one node (as `swarm-node`).

Discussion: the node's code must not run as the module `__main__` - that is the name of the
programs' own scripts, and the kernel tells a program's frames from the node's by their
module's name (kernel._preemptible) - so the shell is imported, not run as a script.
"""

import sys

from swarm.node.shell import main

sys.exit(main())
