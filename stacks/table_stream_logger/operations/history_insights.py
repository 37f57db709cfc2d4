"""``history``'s first source: the logger's log group, through one CloudWatch Logs Insights query
(``filterIndex`` on the key where the construct's field index policy indexes it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from .errors import RedriveError
from .history_changes import JSON_NUMBER
from .polling import QUERY_TIMEOUT, poll_until

# Logs Insights returns at most 10,000 rows per query.
INSIGHTS_LIMIT = 10_000
INFREQUENT_ACCESS = "INFREQUENT_ACCESS"


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

    def poll(elapsed: Callable[[], float]) -> tuple[str, dict[str, Any]]:
        result: dict[str, Any] = logs.get_query_results(queryId=query_id)
        status = result.get("status")
        statistics = result.get("statistics", {})
        scanned, size = statistics.get("recordsScanned", 0), statistics.get("bytesScanned", 0)
        err.write(
            f"# query {status}: {elapsed():.0f} s, {scanned:,.0f} lines and {size:,.0f} bytes scanned, "
            f"{statistics.get('recordsMatched', 0):,.0f} matched\n"
        )
        return str(status), result

    result = poll_until(
        poll,
        done="Complete",
        failed=("Failed", "Cancelled", "Timeout", "Unknown"),
        service="Logs Insights",
        query_id=query_id,
        stop=lambda: logs.stop_query(queryId=query_id),
        timeout=timeout,
        clock=clock,
        sleep=sleep,
    )
    rows = result.get("results", [])
    if len(rows) >= INSIGHTS_LIMIT:
        raise RedriveError(
            f"the item has {INSIGHTS_LIMIT:,} or more lines in the time range, more than one query returns: "
            "narrow it with --since/--until"
        )
    return [field["value"] for row in rows for field in row if field.get("field") == "@message"]
