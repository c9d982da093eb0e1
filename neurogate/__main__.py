"""Allow ``python -m neurogate``."""

import sys

from neurogate.cli import main

sys.exit(main())
