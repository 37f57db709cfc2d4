"""The operator command, ``python -m table_stream_logger`` (console script ``table-stream-logger``).

List, inspect and replay the batches Lambda parked, and answer the operator's other questions:

- ``list``, ``show KEY``, ``replay``: the parked batches of a failure destination (listing.py,
  replay.py), found from the stack or from explicit names (target.py, stack.py), read from the
  failure records (failure_records.py, stores.py, stream_records.py), replayed to the function
  that parked each (functions.py; ``--local``: the logger's handler on this machine,
  lambda_runtime.py);
- ``history``: what happened to one item, and what it was at any moment (history*.py);
- ``status``: is the logging working (status.py).

cli.py parses the arguments and runs the subcommand. Nothing here imports aws-cdk-lib: the command
needs boto3 (``pip install 'table-stream-logger[redrive]'``), and for ``--local`` the runtime
client (awslambdaric) and the function's Powertools (``aws-lambda-powertools``).
"""

from .cli import main

__all__ = ["main"]
