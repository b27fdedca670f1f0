import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# compiled modules are kept on disk (swarm/compiler/diskcache.py): the tests keep theirs in a
# directory of their own run, not in the user's cache (set before any node or worker starts)
if "SWARM_COMPILE_CACHE" not in os.environ:
    import tempfile

    os.environ["SWARM_COMPILE_CACHE"] = tempfile.mkdtemp(prefix="swarm-test-compiled-")
