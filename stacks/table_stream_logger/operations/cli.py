"""``python -m table_stream_logger``: the arguments of every subcommand, and the one entry point
that runs them with their exit status (0 done, 1 not everything done or healthy, 2 a usage or
access error, 130 interrupted)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .._core.record_formats import REPLAYED_PREFIX
from . import history, status
from .aws import aws_error, boto3_clients
from .errors import RedriveError
from .listing import command_list, command_show
from .replay import ReplaySettings, command_replay
from .target import Target, find_target

PROG = "python -m table_stream_logger"

EPILOG = """\
where the parked batches are (one of):
  --stack-name NAME      the stack's event source mappings (the app's stack or any other that
                         uses the constructs): each names its function and failure destination
                         (with several destinations, choose one with --bucket or --queue-url;
                         --function-name names the one function instead). Each batch goes back
                         to the function that parked it
  --bucket / --queue-url with --function-name: that function's batches only
  --folder DIR           a folder that python -m local wrote (.local-failures/), with --local

exit status: 0 when everything asked was done (or nothing was parked), 1 when a batch still
fails, 2 for a usage or access error.
"""


class OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr and exit status 2, as the
    command's own errors: ``error: argument --endpoint-url: ... (see --help)``."""

    def error(self, message: str) -> Any:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def endpoint_url(text: str) -> str:
    """An --endpoint-url: a URL with its scheme, which botocore needs (``localhost:8000`` is refused)."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a URL with a scheme: give http:// or https://, e.g. http://{text}"
        )
    return text


def build_parser() -> argparse.ArgumentParser:
    common = OneLineParser(add_help=False)
    where = common.add_argument_group("where the parked batches are")
    where.add_argument(
        "--stack-name",
        metavar="NAME",
        help="find the failure destination and the functions that park there from its event source mappings",
    )
    where.add_argument("--bucket", metavar="NAME", help="the S3 failure destination")
    where.add_argument("--queue-url", metavar="URL", help="the SQS failure destination")
    where.add_argument(
        "--function-name",
        metavar="NAME",
        help="the one function whose batches to replay (with --folder: the logger's); others' batches stay parked",
    )
    where.add_argument(
        "--folder", type=Path, metavar="DIR", help="a local folder of parked batches, e.g. .local-failures"
    )
    aws = common.add_argument_group("AWS (the standard credential chain)")
    aws.add_argument("--region", help="default: from your AWS configuration")
    aws.add_argument("--profile", help="a profile of your AWS configuration")
    aws.add_argument(
        "--endpoint-url", type=endpoint_url, metavar="URL", help="another endpoint, e.g. a moto server (http://...)"
    )

    def output_format(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--format", choices=("text", "json"), default="text", help="default: text")

    def time_range(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--since", metavar="TIME", help="parked at or after: 2026-12-01T14:00:00Z, 2026-12-01, or 6h ago"
        )
        parser.add_argument("--until", metavar="TIME", help="parked at or before, same forms")

    parser = OneLineParser(
        prog=PROG,
        description="List, inspect and replay the batches that the event source mappings of a TableStreamLogger "
        "and of ChangeAlerts parked, each with the function that parked it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{list,show,replay,history,status}")
    listing = commands.add_parser(
        "list",
        parents=[common],
        help="one row per parked batch",
        description="One row per parked batch: "
        "when and why it was parked, its shard and sequence range, its records' event names. Never a key or a value.",
    )
    time_range(listing)
    output_format(listing)
    showing = commands.add_parser(
        "show",
        parents=[common],
        help="a batch and its records' identities",
        description="A parked batch: its metadata and, per record, event name, event ID, sequence number, keys "
        "(unless the function redacts them) and why it failed, from the function's log.",
    )
    showing.add_argument("key", metavar="KEY", help="the batch's S3 key (aws/lambda/...) or SQS message ID")
    output_format(showing)
    replaying = commands.add_parser(
        "replay",
        parents=[common],
        help="invoke the function that parked each batch with it (dry run unless --yes)",
        description="Invoke the function that parked each batch with it, exactly as the mapping did, one batch at a "
        "time; never another function. "
        f"A batch that succeeds moves under {REPLAYED_PREFIX} (an SQS message is deleted); one that still fails "
        "stays parked. A dry run unless --yes.",
    )
    replaying.add_argument("key", metavar="KEY", nargs="*", help="the batches to replay")
    replaying.add_argument("--all", action="store_true", help="every parked batch (within --since/--until)")
    time_range(replaying)
    replaying.add_argument(
        "--yes", action="store_true", help="replay for real; without it, only say what would be done"
    )
    replaying.add_argument(
        "--local",
        action="store_true",
        help="run this package's logger handler in this process instead of the deployed function "
        "(the alerts' batches stay parked)",
    )
    replaying.add_argument(
        "--pause", type=float, default=1.0, metavar="SECONDS", help="between two invocations (default: 1)"
    )
    # The operator's other questions, in modules of their own: what happened to an item, is it working.
    history.add_parser(commands, aws_parent())
    status.add_parser(commands, aws_parent())
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    clients: Callable[[str], Any] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    arguments = build_parser().parse_args(argv)
    now = datetime.fromtimestamp(clock(), UTC)
    target: Target | None = None
    try:
        if getattr(arguments, "run", None) is not None:  # history, status
            return int(
                arguments.run(
                    arguments,
                    out=out,
                    err=err,
                    clients=lambda: clients or boto3_clients(arguments),
                    now=now,
                    clock=clock,
                    sleep=sleep,
                )
            )
        if arguments.command == "replay" and arguments.pause < 0:
            raise RedriveError("--pause cannot be negative")
        if arguments.folder is not None and arguments.command == "replay" and not arguments.local:
            raise RedriveError("--folder goes with --local: a deployed function is never invoked with it")
        target = find_target(arguments, lambda: clients or boto3_clients(arguments))
        if arguments.command == "list":
            return command_list(arguments, target, out, now)
        if arguments.command == "show":
            return command_show(arguments, target, out, now)
        return command_replay(ReplaySettings(arguments, target, out, err, now, sleep))
    except RedriveError as error:
        err.write(f"error: {error}\n")
        return 2
    except Exception as error:
        message = aws_error(error)
        if message is None:
            raise
        err.write(f"error: {message}\n")
        return 2
    except KeyboardInterrupt:
        # A batch is moved only after its replay succeeded: a rerun continues where this one stopped.
        err.write("interrupted: run the command again to continue\n")
        return 130
    finally:
        if target is not None:
            with contextlib.suppress(Exception):
                target.store.release()


def aws_parent() -> argparse.ArgumentParser:
    """The AWS options of every subcommand (aws.boto3_clients reads them)."""
    parent = OneLineParser(add_help=False)
    aws = parent.add_argument_group("AWS (the standard credential chain)")
    aws.add_argument("--region", help="default: from your AWS configuration")
    aws.add_argument("--profile", help="a profile of your AWS configuration")
    aws.add_argument(
        "--endpoint-url", type=endpoint_url, metavar="URL", help="another endpoint, e.g. a moto server (http://...)"
    )
    return parent
