"""``python -m local``: see ``python -m local --help``."""

import sys

from local.cli import main

sys.exit(main())
