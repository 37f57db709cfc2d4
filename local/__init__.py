"""Run the pipeline locally: an embedded DynamoDB stream, Lambda's event source mapping
emulated in-process, and the real handler from ``lambda/``. ``python -m local --help``."""

import sys
from pathlib import Path

# The handler's modules import as Lambda imports them (`import dynamo_json`): the local run
# checks numbers with the handler's own rules.
LAMBDA_DIR = Path(__file__).resolve().parent.parent / "lambda"
if str(LAMBDA_DIR) not in sys.path:
    sys.path.append(str(LAMBDA_DIR))
