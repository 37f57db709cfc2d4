"""``python -m table_stream_logger``: list, inspect and replay parked batches, an item's history,
the logging's status (see operations/)."""

import sys

from .operations import main

sys.exit(main())
