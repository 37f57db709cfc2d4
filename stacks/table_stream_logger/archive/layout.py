"""Where the change archive keeps the change lines and how it reads them: plain data, no CDK.

Shared by the archive construct (archive.py), ``make local ARGS="--archive DIR"``
(local/archive.py) and the test that runs the saved queries on a local archive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# The subscription filter: change lines are exactly the lines with an `event_name` key; the
# per-invocation line, ERROR lines and the embedded-metrics line have none. CDK renders it as
# what CDK renders for logs.FilterPattern.exists("$.event_name") (a test checks it): CloudWatch's
# "this key exists", a wildcard on the member's value.
CHANGE_LINES_PATTERN = '{ $.event_name = "*" }'
# Filter names are unique per log group only, so a fixed one is no global physical name.
SUBSCRIPTION_FILTER_NAME = "change-lines"

# Where Firehose writes in the bucket. `!{timestamp:...}` is Firehose's arrival time in UTC.
DATA_PREFIX = "changes/"
PARTITIONS = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
# Records Firehose could not decompress or process, by error type; never read by the table.
ERROR_PREFIX = "errors/"
ERROR_PARTITIONS = "!{firehose:error-output-type}/" + PARTITIONS
# Athena's query results, kept for a week.
RESULTS_PREFIX = "athena-results/"
RESULTS_RETENTION_DAYS = 7

# The columns of the record line (README: Log line format). keys, new_image, old_image, changes,
# user_identity and shortened are objects whose members differ from table to table: they are
# string columns holding the object's JSON text, read with json_extract_scalar(keys, '$.PK').
COLUMNS: tuple[tuple[str, str], ...] = (
    ("level", "string"),
    ("timestamp", "string"),
    ("message", "string"),
    ("request_id", "string"),
    ("event_name", "string"),
    ("sequence_number", "string"),
    ("approximate_creation_time", "string"),
    ("keys", "string"),
    ("new_image", "string"),
    ("old_image", "string"),
    ("changes", "string"),
    ("changed", "array<string>"),
    ("ttl_expired", "boolean"),
    ("user_identity", "string"),
    ("shortened", "string"),
)
# Firehose's partitions, as integers: `month = 7` matches month=07.
PARTITION_KEYS = ("year", "month", "day")
PROJECTION = {
    "projection.enabled": "true",
    "projection.year.type": "integer",
    "projection.year.range": "2020,2120",
    "projection.month.type": "integer",
    "projection.month.range": "1,12",
    "projection.month.digits": "2",
    "projection.day.type": "integer",
    "projection.day.range": "1,31",
    "projection.day.digits": "2",
}
TABLE_NAME = "change_lines"
# The same objects read as text, one row per line, its one column the line exactly as the logger
# wrote it: the JSON SerDe of change_lines re-serializes an object column and may rewrite its numbers
# (DuckDB's reader turns 0.80 into 0.8 and 12345678901234567890.1 into a double), so ``history``, which
# promises exact values, reads this table. A line is JSON, whose text never holds the \x01 byte that
# LazySimpleSerDe splits fields on.
LINES_TABLE_NAME = "change_lines_text"
LINE_COLUMN = "line"

# --- the saved queries ------------------------------------------------------------------
# Written for Athena (Trino) and run as they are by the local test on DuckDB. They keep to SQL
# both engines read alike: `?` parameters, double-quoted names, no casts
# (`::`), no date functions (the ISO 8601 strings sort as text), and json_extract_scalar, which
# the test defines in DuckDB as its json_extract_string.

# When the change was made: a line written a minute or more after the change carries the
# change's time; any other line was written within a minute of it (lambda/stream_logger.py).
CHANGE_TIME = 'coalesce(approximate_creation_time, "timestamp")'
ORDER = f"ORDER BY {CHANGE_TIME}, length(sequence_number), sequence_number"


def athena_queries(key_names: Sequence[str] | None) -> Mapping[str, tuple[str, str, str]]:
    """The saved queries by construct id: ``(name, description, SQL)``."""
    queries: dict[str, tuple[str, str, str]] = {}
    if key_names:
        conditions = "\n  AND ".join(f"json_extract_scalar(keys, '{json_path(name)}') = ?" for name in key_names)
        queries["ItemHistory"] = (
            "History of one item",
            f"Every change of one item, oldest first. Parameters: {', '.join(key_names)}.",
            f"SELECT {CHANGE_TIME} AS change_time, event_name, changed, changes, new_image, old_image, ttl_expired\n"
            f"FROM {TABLE_NAME}\nWHERE {conditions}\n{ORDER}",
        )
    queries["AttributeChanges"] = (
        "Changes of one attribute",
        "The modifications that changed one attribute in one month. Parameters: year, month, attribute name.",
        f"SELECT {CHANGE_TIME} AS change_time, keys, changes, new_image, old_image\nFROM {TABLE_NAME}\n"
        f"WHERE year = ? AND month = ? AND event_name = 'MODIFY' AND contains(changed, ?)\n{ORDER}",
    )
    queries["TtlExpiries"] = (
        "TTL expiries",
        "The items that DynamoDB's time to live deleted in one month. Parameters: year, month.",
        f"SELECT {CHANGE_TIME} AS change_time, keys, old_image\nFROM {TABLE_NAME}\n"
        f"WHERE year = ? AND month = ? AND event_name = 'REMOVE' AND ttl_expired = true\n{ORDER}",
    )
    queries["ChangesPerDay"] = (
        "Changes per day by event name",
        "How many changes reached the archive each day of one month, by event name. Parameters: year, month.",
        f"SELECT year, month, day, event_name, count(*) AS changes\nFROM {TABLE_NAME}\n"
        "WHERE year = ? AND month = ?\nGROUP BY year, month, day, event_name\nORDER BY year, month, day, event_name",
    )
    return queries


def json_path(name: str) -> str:
    """A JSON path to a top-level member, quoted for a SQL string literal."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return f"$.{name}"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'$["{escaped}"]'.replace("'", "''")
