"""``history``'s second source: the change archive, through Athena, for changes older than the log
group keeps.

The query reads the archive's text table (``change_lines_text``, archive/layout.py): each row is a
change line exactly as the logger wrote it, so the history is rebuilt from archived lines exactly
as from logged ones, numbers included. The SQL keeps to what Athena (Trino) and DuckDB read alike,
as the saved queries do: the test runs it on DuckDB over a local archive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TextIO

from ..archive.layout import LINE_COLUMN, LINES_TABLE_NAME, json_path
from .errors import RedriveError
from .polling import poll_until
from .stack import physical_ids

PAGE_SIZE = 1000
# Firehose partitions by arrival, which follows the change by its buffering (at most 15 minutes) and
# by Lambda's retries: a day of margin after --until keeps every line of the range in the partitions read.
ARRIVAL_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class Archive:
    """Where the archive is queried: the construct's Athena workgroup and Glue database."""

    workgroup: str
    database: str


def day_number(moment: datetime) -> int:
    return moment.year * 10_000 + moment.month * 100 + moment.day


def archive_query(keys: dict[str, str], since: datetime | None, until: datetime | None) -> tuple[str, list[str | int]]:
    """The SQL of one item's archived lines and its parameters: the key values as text
    (``json_extract_scalar`` gives a number key as its literal; the lines are matched exactly
    afterwards), and the days of the partitions to read when a time range is given."""
    conditions = [f"json_extract_scalar({LINE_COLUMN}, '$.keys{json_path(name)[1:]}') = ?" for name in keys]
    parameters: list[str | int] = list(keys.values())
    partition_day = "year * 10000 + month * 100 + day"
    if since is not None:
        conditions.append(f"{partition_day} >= ?")
        parameters.append(day_number(since))
    if until is not None:
        conditions.append(f"{partition_day} <= ?")
        parameters.append(day_number(until + ARRIVAL_MARGIN))
    where = "\n  AND ".join(conditions)
    return f"SELECT {LINE_COLUMN}\nFROM {LINES_TABLE_NAME}\nWHERE {where}", parameters


def sql_literal(value: str | int) -> str:
    """An Athena execution parameter: Athena substitutes each as SQL, so a string is quoted."""
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


def athena_lines(
    athena: Any,
    archive: Archive,
    keys: dict[str, str],
    since: datetime | None,
    until: datetime | None,
    err: TextIO,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    timeout: float,
) -> Iterator[str]:
    """The item's archived lines, from one Athena query polled for at most ``timeout`` seconds."""
    sql, parameters = archive_query(keys, since, until)
    span = f"{since:%Y-%m-%d}" if since else "its first day"
    end = f"{until:%Y-%m-%d}" if until else "now"
    err.write(f"# Athena on {archive.database}.{LINES_TABLE_NAME} (workgroup {archive.workgroup}), {span} to {end}\n")
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": archive.database},
        WorkGroup=archive.workgroup,
        ExecutionParameters=[sql_literal(value) for value in parameters],
    )["QueryExecutionId"]

    def poll(elapsed: Callable[[], float]) -> tuple[str, dict[str, Any]]:
        execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution.get("Status", {}).get("State", "UNKNOWN")
        scanned = execution.get("Statistics", {}).get("DataScannedInBytes", 0)
        err.write(f"# query {state}: {elapsed():.0f} s, {scanned:,} bytes scanned\n")
        return str(state), execution

    poll_until(
        poll,
        done="SUCCEEDED",
        failed=("FAILED", "CANCELLED"),
        service="Athena",
        query_id=query_id,
        stop=lambda: athena.stop_query_execution(QueryExecutionId=query_id),
        timeout=timeout,
        clock=clock,
        sleep=sleep,
        reason=lambda execution: ": " + (execution.get("Status", {}).get("StateChangeReason") or "no reason given"),
    )
    header = True
    for page in athena.get_paginator("get_query_results").paginate(
        QueryExecutionId=query_id, PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        for row in page["ResultSet"]["Rows"]:
            if header:  # the first row of the first page names the column
                header = False
                continue
            yield str(row["Data"][0].get("VarCharValue", ""))


def stack_archive(stack_name: str, resources: list[dict[str, Any]]) -> Archive | None:
    """The archive of a stack, from its resources: its Athena workgroup and Glue database (a
    ChangeArchive builds one of each, and the constructs no other). None without them; with several
    (an archive per logger), one line asking for the names."""
    workgroups = physical_ids(resources, "AWS::Athena::WorkGroup")
    databases = physical_ids(resources, "AWS::Glue::Database")
    if not workgroups or not databases:
        return None
    if len(workgroups) > 1 or len(databases) > 1:
        raise RedriveError(
            f"the stack {stack_name} has {len(workgroups)} Athena workgroups ({', '.join(workgroups)}) and "
            f"{len(databases)} Glue databases ({', '.join(databases)}): give the archive as --workgroup NAME "
            "--database NAME"
        )
    return Archive(workgroups[0], databases[0])
