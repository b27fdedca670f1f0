"""python -m tests.conformance: run the pyperformance suite under migration."""

import sys

from tests.conformance.suite import main

sys.exit(main())
