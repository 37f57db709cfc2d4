"""``python -m table_stream_logger history``: what happened to one item, and what it was at any moment.

The logger's change lines are lossless (the new image, and for a MODIFY the old value of each
changed attribute), so an item's history is its sequence of states, and any past state is rebuilt
from the lines, never guessed:

- without ``--as-of``: the item's changes in the order of their sequence numbers, one per line
  (time, event, what changed, old → new), or one JSON object per change (``--format json``);
- with ``--as-of T``: the item as it was at T, one JSON object, or ``null`` when it did not exist
  (history_state.py).

The lines come from a ``python -m local --format json`` output or a local archive folder
(``--local``), or from the log group through CloudWatch Logs Insights (history_insights.py,
``--log-group``, ``--stack-name``), and for the time before the log group keeps, from the archive
through Athena (history_athena.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from .errors import RedriveError
from .functions import LOGGER_HANDLER
from .history_athena import Archive, athena_lines, stack_archive
from .history_changes import (
    change_object,
    change_text,
    dumps,
    item_changes,
    local_lines,
    parse_keys,
    parse_lines,
    within,
)
from .history_insights import describe_log_group, insights_lines
from .history_state import state_at
from .polling import QUERY_TIMEOUT
from .stack import read_configurations, stack_mappings, stack_resources
from .times import moment


def stack_log_group(client: Callable[[str], Any], stack_name: str, resources: list[dict[str, Any]]) -> str:
    """The logger's log group of a stack: that of the one function of the stack's mappings that runs
    the logger's handler. The mappings and functions the caller may not read are passed over
    (``grant_history`` is the logger's alone); when nothing else is left, that is the one line."""
    mappings, hidden = stack_mappings(client, resources)
    names = list(dict.fromkeys(mapping.function_name for mapping in mappings))
    readers, denied = read_configurations(client("lambda"), names) if names else ({}, {})
    groups = sorted({reader.log_group for reader in readers.values() if reader.handler == LOGGER_HANDLER})
    if not groups and (hidden or denied):
        raise RedriveError(next(iter({**hidden, **denied}.values())))
    if len(groups) != 1:
        found = f"{len(groups)} loggers ({', '.join(groups)})" if groups else "no logger"
        raise RedriveError(f"the stack {stack_name} has {found}: give --log-group")
    return groups[0]


def deployed_lines(
    arguments: argparse.Namespace,
    keys: dict[str, str],
    since: datetime | None,
    until: datetime | None,
    *,
    err: TextIO,
    client: Callable[[str], Any],
    now: datetime,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> list[str]:
    """The item's lines of a deployed logger: from the log group for the time it keeps lines, and
    from the archive (Athena) for the time before, when there is one. A line in both is one change
    (the changes are deduplicated by sequence number)."""
    archive = Archive(arguments.workgroup, arguments.database) if arguments.workgroup else None
    if arguments.log_group:
        name = arguments.log_group
    else:
        resources = stack_resources(client("cloudformation"), arguments.stack_name)
        name = stack_log_group(client, arguments.stack_name, resources)
        archive = archive or stack_archive(arguments.stack_name, resources)
    group = describe_log_group(client("logs"), name)
    kept_from = group.kept_from(now)
    lines: list[str] = []
    if archive is not None and (since is None or since < kept_from):
        older_until = min(until or now, kept_from)
        lines += athena_lines(client("athena"), archive, keys, since, older_until, err, clock, sleep, arguments.timeout)
    if until is None or until >= kept_from:
        start, end = max(since or group.created, group.created), until or now
        lines += insights_lines(client("logs"), group, keys, start, end, err, clock, sleep, arguments.timeout)
    return lines


# --- the command ----------------------------------------------------------------------------------
def add_parser(commands: Any, aws: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "history",
        parents=[aws],
        help="an item's changes, or the item as it was at a moment (--as-of)",
        description="An item's changes in order, from the logger's change lines; with --as-of, the item as it "
        "was then, rebuilt from them (null when it did not exist). Numbers exact.",
    )
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an attribute of the item's key; once per attribute (partition key, sort key)",
    )
    source = parser.add_argument_group("where the change lines are (one of)")
    source.add_argument(
        "--local",
        type=Path,
        metavar="PATH",
        help="a file of python -m local --format json output, or a local archive folder (--archive DIR)",
    )
    source.add_argument("--log-group", metavar="NAME", help="the logger's log group (Logs Insights)")
    source.add_argument(
        "--stack-name",
        metavar="NAME",
        help="the stack of the logger: its log group (Logs Insights) and, if it has one, its archive (Athena)",
    )
    archive = parser.add_argument_group(
        "the change archive, for changes older than the log group keeps (a stack's is found from --stack-name)"
    )
    archive.add_argument(
        "--workgroup", metavar="NAME", help="the archive's Athena workgroup (the app's output ArchiveWorkGroup)"
    )
    archive.add_argument(
        "--database", metavar="NAME", help="the archive's Glue database (the app's output ArchiveDatabaseName)"
    )
    parser.add_argument("--since", metavar="TIME", help="changes at or after: 2026-12-01T14:00:00Z, 2026-12-01, or 6h")
    parser.add_argument("--until", metavar="TIME", help="changes at or before, same forms (default: now)")
    parser.add_argument("--as-of", metavar="TIME", help="the item as it was at this time, same forms")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="default: text")
    parser.add_argument(
        "--timeout",
        type=float,
        default=QUERY_TIMEOUT,
        metavar="SECONDS",
        help=f"how long a query (Logs Insights, Athena) may run (default: {QUERY_TIMEOUT:.0f})",
    )
    parser.set_defaults(run=run)


def run(
    arguments: argparse.Namespace,
    *,
    out: TextIO,
    err: TextIO,
    clients: Callable[[], Callable[[str], Any]],
    now: datetime,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> int:
    keys = parse_keys(arguments.key)
    sources = [name for name in ("local", "log_group", "stack_name") if getattr(arguments, name)]
    if len(sources) != 1:
        raise RedriveError("say where the change lines are, once: --local PATH, --log-group NAME or --stack-name NAME")
    since = moment(arguments.since, now) if arguments.since else None
    until = moment(arguments.until, now) if arguments.until else None
    as_of = moment(arguments.as_of, now) if arguments.as_of else None
    if as_of is not None and until is not None and as_of > until:
        raise RedriveError("--as-of is after --until: the item's state then is not in the lines asked for")
    until = as_of if as_of is not None else until
    if since is not None and until is not None and since > until:
        raise RedriveError("--since is after --until")
    if (arguments.workgroup is None) != (arguments.database is None):
        raise RedriveError("give the archive as --workgroup NAME --database NAME, both")
    if arguments.local is not None:
        if arguments.workgroup is not None:
            raise RedriveError("--local reads a local archive folder itself: give it as --local DIR, not --workgroup")
        lines: Iterable[str] = local_lines(arguments.local)
    else:
        client = clients()
        lines = deployed_lines(arguments, keys, since, until, err=err, client=client, now=now, clock=clock, sleep=sleep)
    changes = within(item_changes(parse_lines(lines), keys), since, until)
    if as_of is not None:
        out.write(dumps(state_at(changes, as_of)) + "\n")
        return 0
    if not changes:
        err.write("# no change of this item in the lines\n")
    for change in changes:
        if arguments.format == "json":
            out.write(dumps(change_object(change)) + "\n")
        else:
            out.write(f"{change.timestamp}  {change.event_name:<6}  {change_text(change)}".rstrip() + "\n")
    return 0
