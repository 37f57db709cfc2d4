"""The lines the handler really writes, through the archive's filter, read by the Glue table's schema."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local.archive import ArchiveWriter
from stacks.table_stream_logger.archive_layout import COLUMNS, TABLE_NAME
from tests.archive_sql import connect, run, run_saved

from .conftest import configured, invoke, load_event

EVENTS = ("tutorial_modify", "all_types", "binary", "empty_values", "nested", "numbers", "ttl_remove")
# 2023-07-16 12:00:00 UTC: the day the fixtures' records were written.
WRITTEN = 1689508800.0
# Keys of today's record line that the table leaves out: Powertools' per-invocation keys, which
# the new line format (README: Log line format) moves to a line of their own.
NOT_COLUMNS = {
    "location",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "xray_trace_id",
    "user_identity",
}


def archive_of(folder: Path, *events: str, log_images: str = "NEW_AND_OLD") -> list[str]:
    """Invoke the handler with each fixture event; archive what it wrote; return all its lines."""
    writer = ArchiveWriter(folder, clock=lambda: WRITTEN)
    lines: list[str] = []
    with configured(log_images=log_images):
        for event in events:
            written = invoke(load_event(event)).output.splitlines()
            writer(written)
            lines += written
    return lines


@pytest.mark.parametrize("log_images", ["NEW_AND_OLD", "NEW", "CHANGES"])
def test_every_change_line_fits_the_table_and_nothing_else_is_archived(tmp_path: Path, log_images: str) -> None:
    # GIVEN the fixture events, a bad record among them (an ERROR line), logged in each mode
    lines = archive_of(tmp_path, *EVENTS, "batch_with_bad_record", log_images=log_images)
    changes = [json.loads(line) for line in lines if "event_name" in json.loads(line)]

    # WHEN the table reads the archive, every column of every row
    rows = run(connect(tmp_path), f"SELECT * FROM {TABLE_NAME} ORDER BY event_id")

    # THEN each change line is one row, with its values, and no other line is
    assert len(lines) > len(changes) and len(rows) == len(changes)
    by_id = {row["event_id"]: row for row in rows}
    for change in changes:
        row = by_id[change["event_id"]]
        for name, kind in COLUMNS:
            if name not in change:
                assert row[name] is None, name
            elif kind == "string" and isinstance(change[name], dict):
                assert json.loads(row[name]) == change[name], name  # the object's JSON text
            else:
                assert row[name] == change[name], name
        assert (row["year"], row["month"], row["day"]) == (2023, 7, 16)
    # AND every key of a change line is a column (or one the new line format drops)
    assert {key for change in changes for key in change} - {name for name, _ in COLUMNS} <= NOT_COLUMNS


def test_numbers_of_up_to_15_digits_come_back_exactly_longer_ones_as_doubles(tmp_path: Path) -> None:
    # GIVEN DynamoDB's extreme numbers (38 digits, 1E-130, ...), logged and archived
    lines = archive_of(tmp_path, "numbers")
    (logged,) = [json.loads(line, parse_float=Decimal)["new_image"] for line in lines if "event_name" in line]

    # WHEN the table reads the image column, an object's JSON text
    (row,) = run(connect(tmp_path), f"SELECT new_image FROM {TABLE_NAME}")
    read = json.loads(row["new_image"], parse_float=Decimal)

    # THEN the engine's JSON parser keeps what a double holds: exact up to 15 significant
    # digits (README: Keeping changes for years); the archived line itself keeps every digit
    for name, value in logged.items():
        if isinstance(value, Decimal) and len(value.as_tuple().digits) > 15:
            assert float(read[name]) == float(value), name
        else:
            assert read[name] == value, name
    assert any("12345678901234567890123456789012345678" in line for line in lines)


def test_the_ttl_query_finds_the_expiries(tmp_path: Path) -> None:
    # GIVEN the handler's lines for a TTL deletion and a user's deletion, and a line of the new
    # format for a TTL deletion (README: Log line format, "ttl_expired": true)
    lines = archive_of(tmp_path, "ttl_remove", "tutorial_modify")
    handler_expiries = [json.loads(line)["event_id"] for line in lines if json.loads(line).get("ttl_expired") is True]
    new_format: dict[str, Any] = {
        "level": "INFO",
        "timestamp": "2023-07-16T12:00:00.000Z",
        "message": "REMOVE SESSION / user#7",
        "function_request_id": "r",
        "event_name": "REMOVE",
        "event_id": "ttl-new-format",
        "sequence_number": "700000000000000000000000001",
        "approximate_creation_time": "2023-07-16T11:59:00Z",
        "table": "Cloud9",
        "keys": {"PK": "SESSION", "SK": "user#7"},
        "old_image": {"PK": "SESSION", "SK": "user#7", "ExpiresAt": 1689508000},
        "ttl_expired": True,
    }
    ArchiveWriter(tmp_path, clock=lambda: WRITTEN)([json.dumps(new_format)])

    # WHEN the saved query runs for July 2023
    expiries = run_saved(connect(tmp_path), "TtlExpiries", 2023, 7)

    # THEN it lists the TTL deletions only, with the expired item
    assert [json.loads(row["keys"]) for row in expiries][-1] == {"PK": "SESSION", "SK": "user#7"}
    assert len(expiries) == 1 + len(handler_expiries)
    assert json.loads(expiries[-1]["old_image"])["ExpiresAt"] == 1689508000
