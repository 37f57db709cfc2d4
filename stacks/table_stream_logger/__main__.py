"""``python -m table_stream_logger``: list, inspect and replay parked batches (see redrive.py)."""

import sys

from .redrive import main

sys.exit(main())
