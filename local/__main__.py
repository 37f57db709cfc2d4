"""``python -m local``: see ``python -m local --help``."""

import os
import sys

from local.cli import OUTPUT_CLOSED, main

status = main()
if status == OUTPUT_CLOSED:
    # Python's advice for a closed pipe: point stdout at /dev/null, or the interpreter's
    # final flush of stdout fails once more and prints a traceback.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
sys.exit(status)
