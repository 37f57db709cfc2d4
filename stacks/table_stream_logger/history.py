"""``python -m table_stream_logger history``: what happened to one item, and what it was at any moment.

The logger's change lines are lossless (the new image, and for a MODIFY the old value of each
changed attribute), so an item's history is its sequence of states, and any past state is rebuilt
from the lines, never guessed:

- without ``--as-of``: the item's changes in the order of their sequence numbers, one per line
  (time, event, what changed, old → new), or one JSON object per change (``--format json``);
- with ``--as-of T``: the item as it was at T, one JSON object, or ``null`` when it did not exist.
  A gap the lines show (a MODIFY whose old values are not the rebuilt state, a first line that is
  not an INSERT) is an error that says where.

The lines come from a ``python -m local --format json`` output or a local archive folder
(``--local``), or from the log group through CloudWatch Logs Insights (``--log-group``,
``--stack-name``). Numbers stay exact: lines are parsed with ``Decimal`` and written back as the
literals they were.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from .history_athena import Archive, athena_lines, stack_archive
from .parked import RedriveError, parse_time

REDACTED = "[REDACTED]"
ABSENT = "(none)"
# Logs Insights returns at most 10,000 rows per query.
INSIGHTS_LIMIT = 10_000
# How long a history query may run before the command gives up on it (and stops it).
QUERY_TIMEOUT = 120.0
POLL_INTERVAL = 1.0
INFREQUENT_ACCESS = "INFREQUENT_ACCESS"
JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


class Gap(RedriveError):
    """The lines cannot say what the item was: a change is missing from them."""


# --- exact JSON ------------------------------------------------------------------------------------
def loads(text: str) -> Any:
    """A log line's JSON with its numbers exact: decimals as ``Decimal``, integers as ``int``."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any) -> str:
    """Compact JSON of what :func:`loads` read, each number written as the literal it was."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{json.dumps(str(name), ensure_ascii=False)}:{dumps(v)}" for name, v in value.items()) + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


# --- the item asked for -------------------------------------------------------------------------------
def parse_keys(given: Sequence[str]) -> dict[str, str]:
    """``--key NAME=VALUE`` options, by name; one line of error for anything else."""
    keys: dict[str, str] = {}
    for text in given:
        name, equals, value = text.partition("=")
        if not equals or not name:
            raise RedriveError(f"--key {text!r} is not NAME=VALUE: give e.g. --key PK=FRUIT")
        if name in keys:
            raise RedriveError(f"--key {name} is given twice")
        keys[name] = value
    if not keys:
        raise RedriveError("say which item: --key NAME=VALUE for each attribute of the table's key")
    return keys


def key_matches(wanted: str, value: Any) -> bool:
    """Whether a line's key value is the one asked for, typed as the line (the table) has it:
    a number key compares as a number (``--key id=5`` matches 5 and 5.0), a string as text."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, Decimal)):
        if not JSON_NUMBER.fullmatch(wanted):
            return False
        try:
            return Decimal(wanted) == value
        except InvalidOperation:
            return False
    return isinstance(value, str) and value == wanted


# --- the lines ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One change line of the item."""

    time: datetime
    timestamp: str
    event_name: str
    sequence_number: str
    keys: dict[str, Any]
    line: dict[str, Any]

    @property
    def order(self) -> tuple[int, str]:
        number = self.sequence_number
        return (int(number), number) if number.isdigit() else (-1, number)


def change_of(line: Any) -> Change | None:
    """A change line as a :class:`Change`; None for any other line (invocation, metrics, errors)."""
    if not isinstance(line, dict) or not isinstance(line.get("event_name"), str):
        return None
    keys = line.get("keys")
    if not isinstance(keys, dict) or not line.get("sequence_number"):
        return None
    # A line written a minute or more after its change says when the change was made.
    when = line.get("approximate_creation_time") or line.get("timestamp")
    if not isinstance(when, str):
        return None
    try:
        moment = parse_time(when)
    except RedriveError:
        return None
    return Change(moment, when, line["event_name"], str(line["sequence_number"]), keys, line)


def parse_lines(lines: Iterable[str]) -> Iterator[Change]:
    for text in lines:
        text = text.strip()
        if not text.startswith("{"):
            continue
        try:
            change = change_of(loads(text))
        except ValueError:
            continue
        if change is not None:
            yield change


def local_lines(path: Path) -> Iterator[str]:
    """The lines of a ``python -m local --format json`` output, or of every file of a folder (a
    local archive: ``changes/year=.../*.gz``, GZIP JSON lines)."""
    if not path.exists():
        raise RedriveError(f"--local {path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        data = file.read_bytes()
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as error:
                raise RedriveError(f"{file}: not a readable GZIP file ({error})") from None
        yield from data.decode(errors="replace").splitlines()


def item_changes(changes: Iterable[Change], wanted: dict[str, str]) -> list[Change]:
    """The changes of the item ``wanted`` names, by sequence number, each change once (a line
    logged again by a retry or a replay carries the same sequence number)."""
    found: dict[str, Change] = {}
    redacted = set()
    for change in changes:
        redacted |= {name for name in wanted if change.keys.get(name) == REDACTED}
        if all(name in change.keys and key_matches(value, change.keys[name]) for name, value in wanted.items()):
            found.setdefault(change.sequence_number, change)
    if not found and redacted:
        names = ", ".join(sorted(redacted))
        raise RedriveError(f"the log redacts the key attribute {names} (REDACT_ATTRIBUTES): no item can be found by it")
    ordered = sorted(found.values(), key=lambda change: change.order)
    for change in ordered:
        if set(change.keys) != set(wanted):
            need = " ".join(f"--key {name}=..." for name in change.keys)
            raise RedriveError(f"the table's key is {', '.join(change.keys)}: give {need}")
    return ordered


def within(changes: list[Change], since: datetime | None, until: datetime | None) -> list[Change]:
    return [c for c in changes if (since is None or c.time >= since) and (until is None or c.time <= until)]


# --- what a change says -----------------------------------------------------------------------------
def attribute_changes(line: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """A MODIFY's ``{name: {"old": ..., "new": ...}}``, a side missing where the attribute was added
    or removed; from ``changes``, else from both images; None when the line has no old values
    (``log_images="NEW"``)."""
    if isinstance(line.get("changes"), dict):
        return dict(line["changes"])
    old, new = line.get("old_image"), line.get("new_image")
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    names = line.get("changed") or sorted(set(old) | set(new))
    return {
        name: {**({"old": old[name]} if name in old else {}), **({"new": new[name]} if name in new else {})}
        for name in names
        if old.get(name, ABSENT) != new.get(name, ABSENT) or (name in old) != (name in new)
    }


def side_text(side: dict[str, Any], name: str) -> str:
    return dumps(side[name]) if name in side else ABSENT


def change_text(change: Change) -> str:
    """What a change did, for a person: ``Stocks 33 → 32``, ``Stocks=39 Price={...}``, ``(expired by TTL)``."""
    line = change.line
    if change.event_name == "INSERT":
        new = line.get("new_image") or {}
        return " ".join(f"{name}={dumps(value)}" for name, value in new.items() if name not in change.keys)
    if change.event_name == "MODIFY":
        sides = attribute_changes(line)
        if sides is None:  # the new values only
            new = line.get("new_image") or {}
            return ", ".join(
                f"{name} → {dumps(new[name]) if name in new else ABSENT}" for name in line.get("changed") or []
            )
        return ", ".join(f"{name} {side_text(side, 'old')} → {side_text(side, 'new')}" for name, side in sides.items())
    if change.event_name == "REMOVE":
        return "(expired by TTL)" if line.get("ttl_expired") is True else "(deleted)"
    return ""


def change_object(change: Change) -> dict[str, Any]:
    """One change as ``--format json`` shows it."""
    line = change.line
    shown: dict[str, Any] = {
        "timestamp": change.timestamp,
        "event_name": change.event_name,
        "sequence_number": change.sequence_number,
        "keys": change.keys,
    }
    if change.event_name == "INSERT":
        shown["new_image"] = line.get("new_image")
    elif change.event_name == "MODIFY":
        shown["changes"] = attribute_changes(line)
        if shown["changes"] is None:
            shown["new_image"] = line.get("new_image")
    elif change.event_name == "REMOVE":
        shown["old_image"] = line.get("old_image")
        shown["ttl_expired"] = line.get("ttl_expired") is True
    if "shortened" in line:
        shown["shortened"] = line["shortened"]
    return shown


# --- the item at a moment ------------------------------------------------------------------------------
def where(change: Change) -> str:
    return f"{change.event_name} at {change.timestamp} (sequence number {change.sequence_number})"


def state_at(changes: list[Change], moment: datetime) -> dict[str, Any] | None:
    """The item as it was at ``moment``, rebuilt from its changes up to then."""
    state: dict[str, Any] | None = None
    known = False  # whether the lines have said what the item was
    for change in changes:
        if change.time > moment:
            break
        state = next_state(state, known, change)
        known = True
    return state


def next_state(state: dict[str, Any] | None, known: bool, change: Change) -> dict[str, Any] | None:
    """The item after ``change``, from its state before (``known``: the lines had one); a Gap when
    the line cannot follow that state."""
    line = change.line
    if "shortened" in line:
        full = (line.get("shortened") or {}).get("full_record") or "only in the table"
        raise Gap(f"the line of the {where(change)} is shortened: the item's values are not all in it ({full})")
    if change.event_name == "INSERT":
        if known and state is not None:
            raise Gap(f"the {where(change)} creates an item the lines say exists: its REMOVE is missing")
        image = line.get("new_image")
        if not isinstance(image, dict):
            raise Gap(f"the line of the {where(change)} has no new_image")
        return dict(image)
    if not known or state is None:
        before = "is the first change of the item in the lines" if not known else "follows its REMOVE"
        raise Gap(
            f"the {where(change)} {before}: the item's state before it is not in the lines "
            "(older than the log's retention or --since, or a change is missing)"
        )
    if change.event_name == "REMOVE":
        old = line.get("old_image")
        if isinstance(old, dict) and old != state:
            raise Gap(f"the {where(change)} removes an item other than the rebuilt one: a change before it is missing")
        return None
    if change.event_name != "MODIFY":
        raise Gap(f"the {where(change)} is no change the logger writes")
    return modified(state, change)


def modified(state: dict[str, Any], change: Change) -> dict[str, Any]:
    """The item after a MODIFY: its changes applied to ``state``, each old value checked against it."""
    line = change.line
    sides = attribute_changes(line)
    if isinstance(line.get("old_image"), dict) and line["old_image"] != state:
        raise Gap(f"the {where(change)} changes an item other than the rebuilt one: a change before it is missing")
    for name, side in (sides or {}).items():
        if ("old" in side) != (name in state) or ("old" in side and side["old"] != state[name]):
            was = dumps(state[name]) if name in state else ABSENT
            old = dumps(side["old"]) if "old" in side else ABSENT
            raise Gap(f"the {where(change)} changes {name} from {old}, but it was {was}: a change before it is missing")
    image = line.get("new_image")
    if sides is None:  # log_images="NEW": the new image, nothing to check it against
        if not isinstance(image, dict):
            raise Gap(f"the line of the {where(change)} has neither new_image nor changes")
        return dict(image)
    rebuilt = dict(state)
    for name, side in sides.items():
        if "new" in side:
            rebuilt[name] = side["new"]
        else:
            rebuilt.pop(name, None)
    if isinstance(image, dict) and image != rebuilt:
        # What the change left alone must be what the item was.
        name = next(n for n in sorted(set(image) | set(rebuilt)) if image.get(n, ABSENT) != rebuilt.get(n, ABSENT))
        now = dumps(image[name]) if name in image else ABSENT
        was = dumps(state[name]) if name in state else ABSENT
        raise Gap(f"after the {where(change)} {name} is {now}, but it was {was}: a change before it is missing")
    return rebuilt


# --- CloudWatch Logs Insights ---------------------------------------------------------------------
def insights_value(value: str) -> str:
    """A key value in a query: a string literal, and the number too when it reads as one (the
    line's key is the one or the other; the lines are matched exactly afterwards)."""
    text = json.dumps(value)
    return f"[{value}, {text}]" if JSON_NUMBER.fullmatch(value) else text


def history_query(keys: dict[str, str], indexed: Sequence[str]) -> str:
    """The Logs Insights query of one item's change lines; ``filterIndex`` on the first indexed key
    field, so that an indexed log group scans only the item's events."""

    def condition(name: str) -> str:
        value = insights_value(keys[name])
        return f"keys.{name} {'in' if value.startswith('[') else '='} {value}"

    parts = ["fields @timestamp, @message"]
    index = next((name for name in keys if f"keys.{name}" in indexed), None)
    if index is not None:
        parts.append(f"filterIndex {condition(index)}")
    parts.append("filter ispresent(event_name) and " + " and ".join(condition(name) for name in keys))
    parts.append("sort @timestamp asc")
    parts.append(f"limit {INSIGHTS_LIMIT}")
    return "\n| ".join(parts)


@dataclass(frozen=True)
class LogGroup:
    name: str
    log_group_class: str
    created: datetime
    indexed: tuple[str, ...]
    retention_days: int | None = None  # None: kept for ever

    def kept_from(self, now: datetime) -> datetime:
        """The time of the oldest line the group can still hold."""
        if self.retention_days is None:
            return self.created
        return max(self.created, now - timedelta(days=self.retention_days))


def describe_log_group(logs: Any, name: str) -> LogGroup:
    groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
    found = [group for group in groups if group.get("logGroupName") == name]
    if not found:
        raise RedriveError(f"no log group named {name} in {logs.meta.region_name}")
    group = found[0]
    group_class = group.get("logGroupClass", "STANDARD")
    indexed: tuple[str, ...] = ()
    if group_class != INFREQUENT_ACCESS:
        policies = logs.describe_index_policies(logGroupIdentifiers=[group.get("logGroupArn") or name])
        for policy in policies.get("indexPolicies", []):
            document = json.loads(policy.get("policyDocument") or "{}")
            indexed += tuple(str(field) for field in document.get("Fields", []))
    created = datetime.fromtimestamp(int(group.get("creationTime", 0)) / 1000, UTC)
    retention = group.get("retentionInDays")
    return LogGroup(name, group_class, created, indexed, int(retention) if retention else None)


def insights_lines(
    logs: Any,
    group: LogGroup,
    keys: dict[str, str],
    start: datetime,
    end: datetime,
    err: TextIO,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    timeout: float = QUERY_TIMEOUT,
) -> list[str]:
    """The item's lines, from one Logs Insights query polled for at most ``timeout`` seconds."""
    query = history_query(keys, group.indexed)
    if group.log_group_class == INFREQUENT_ACCESS:
        scope = "an Infrequent Access log group has no field indexes: the query scans every line of the time range"
    elif "filterIndex" in query:
        scope = "the key is indexed: the query scans the item's lines only"
    else:
        scope = "the key is not indexed (no field index policy): the query scans every line of the time range"
    err.write(f"# Logs Insights on {group.name}, {start:%Y-%m-%dT%H:%M:%SZ} to {end:%Y-%m-%dT%H:%M:%SZ}: {scope}\n")
    query_id = logs.start_query(
        logGroupName=group.name,
        startTime=int(start.timestamp()),
        endTime=int(end.timestamp()),
        queryString=query,
        limit=INSIGHTS_LIMIT,
    )["queryId"]
    began = clock()
    while True:
        result = logs.get_query_results(queryId=query_id)
        status = result.get("status")
        statistics = result.get("statistics", {})
        scanned, size = statistics.get("recordsScanned", 0), statistics.get("bytesScanned", 0)
        err.write(
            f"# query {status}: {clock() - began:.0f} s, {scanned:,.0f} lines and {size:,.0f} bytes scanned, "
            f"{statistics.get('recordsMatched', 0):,.0f} matched\n"
        )
        if status == "Complete":
            break
        if status in ("Failed", "Cancelled", "Timeout", "Unknown"):
            raise RedriveError(f"the Logs Insights query {query_id} ended {status}")
        if clock() - began >= timeout:
            logs.stop_query(queryId=query_id)
            raise RedriveError(
                f"the Logs Insights query took more than {timeout:.0f} s and was stopped: narrow --since/--until"
            )
        sleep(POLL_INTERVAL)
    rows = result.get("results", [])
    if len(rows) >= INSIGHTS_LIMIT:
        raise RedriveError(
            f"the item has {INSIGHTS_LIMIT:,} or more lines in the time range, more than one query returns: "
            "narrow it with --since/--until"
        )
    return [field["value"] for row in rows for field in row if field.get("field") == "@message"]


def stack_sources(client: Callable[[str], Any], stack_name: str) -> tuple[str, Archive | None]:
    """The logger's log group of a stack (its output ``LogGroupName``, else the log group of the one
    function of the stack that runs the logger's handler) and its archive, if it has one."""
    from .redrive import LOGGER_HANDLER, read_configuration, stack_mappings, stack_outputs

    outputs = stack_outputs(client("cloudformation"), stack_name)
    if outputs.get("LogGroupName"):
        return outputs["LogGroupName"], stack_archive(outputs)
    readers = [read_configuration(client("lambda"), m.function_name) for m in stack_mappings(client, stack_name)]
    groups = sorted({reader.log_group for reader in readers if reader.handler == LOGGER_HANDLER})
    if len(groups) != 1:
        found = f"{len(groups)} loggers ({', '.join(groups)})" if groups else "no logger"
        raise RedriveError(f"the stack {stack_name} has {found}: give --log-group")
    return groups[0], stack_archive(outputs)


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
        name, found = stack_sources(client, arguments.stack_name)
        archive = archive or found
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
def aws_parent() -> argparse.ArgumentParser:
    """The AWS options of every subcommand (redrive.boto3_clients reads them)."""
    from .redrive import OneLineParser, endpoint_url

    parent = OneLineParser(add_help=False)
    aws = parent.add_argument_group("AWS (the standard credential chain)")
    aws.add_argument("--region", help="default: from your AWS configuration")
    aws.add_argument("--profile", help="a profile of your AWS configuration")
    aws.add_argument(
        "--endpoint-url", type=endpoint_url, metavar="URL", help="another endpoint, e.g. a moto server (http://...)"
    )
    return parent


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
    archive.add_argument("--workgroup", metavar="NAME", help="the archive's Athena workgroup (output ArchiveWorkGroup)")
    archive.add_argument("--database", metavar="NAME", help="the archive's Glue database (output ArchiveDatabaseName)")
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
    from .redrive import moment

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
