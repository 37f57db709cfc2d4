"""The lines the handler really writes, through the archive's filter, read by the Glue table's schema."""

from __future__ import annotations

import copy
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local.archive import ArchiveWriter
from stacks.table_stream_logger.archive.layout import COLUMNS, TABLE_NAME
from tests.archive_sql import connect, run, run_saved

from .conftest import configured, invoke, load_event

EVENTS = ("tutorial_modify", "all_types", "binary", "empty_values", "nested", "numbers", "ttl_remove")
# 2023-07-16 12:00:00 UTC: the day the fixtures' records were written.
WRITTEN = 1689508800.0


def archive_of(folder: Path, *events: str, log_images: str = "NEW_AND_CHANGES") -> list[str]:
    """Invoke the handler with each fixture event; archive what it wrote; return all its lines."""
    writer = ArchiveWriter(folder, clock=lambda: WRITTEN)
    lines: list[str] = []
    with configured(log_images=log_images):
        for event in events:
            written = invoke(load_event(event)).output.splitlines()
            writer(written)
            lines += written
    return lines


@pytest.mark.parametrize("log_images", ["NEW_AND_CHANGES", "NEW_AND_OLD", "NEW", "CHANGES"])
def test_every_change_line_fits_the_table_and_nothing_else_is_archived(tmp_path: Path, log_images: str) -> None:
    # GIVEN the fixture events, a bad record among them (an ERROR line), logged in each mode
    lines = archive_of(tmp_path, *EVENTS, "batch_with_bad_record", log_images=log_images)
    changes = [json.loads(line) for line in lines if "event_name" in json.loads(line)]

    # WHEN the table reads the archive, every column of every row
    rows = run(connect(tmp_path), f"SELECT * FROM {TABLE_NAME}")

    # THEN each change line is one row, with its values, and no other line is
    assert len(lines) > len(changes) and len(rows) == len(changes)
    by_number = {row["sequence_number"]: row for row in rows}
    for change in changes:
        row = by_number[change["sequence_number"]]
        for name, kind in COLUMNS:
            if name not in change:
                assert row[name] is None, name
            elif kind == "string" and isinstance(change[name], dict):
                assert json.loads(row[name]) == change[name], name  # the object's JSON text
            else:
                assert row[name] == change[name], name
        assert (row["year"], row["month"], row["day"]) == (2023, 7, 16)
    # AND every key of a change line is a column
    assert {key for change in changes for key in change} <= {name for name, _ in COLUMNS}


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


def test_the_ttl_query_finds_the_expiries_and_not_a_users_deletion(tmp_path: Path) -> None:
    # GIVEN the handler's lines for a deletion by DynamoDB's TTL and the same deletion by a user
    expired = load_event("ttl_remove")
    deleted = copy.deepcopy(expired)
    record = deleted["Records"][0]
    del record["userIdentity"]
    record["dynamodb"]["Keys"]["SK"]["S"] = record["dynamodb"]["OldImage"]["SK"]["S"] = "user#7"
    record["dynamodb"]["SequenceNumber"] = "600000000000000000000000002"
    writer = ArchiveWriter(tmp_path, clock=lambda: WRITTEN)
    for event in (expired, deleted):
        writer(invoke(event).output.splitlines())
    assert writer.lines == 2

    # WHEN the saved query runs for July 2023
    expiries = run_saved(connect(tmp_path), "TtlExpiries", 2023, 7)

    # THEN it lists the TTL deletion only, with the expired item
    assert [json.loads(row["keys"]) for row in expiries] == [{"PK": "SESSION", "SK": "user#42"}]
    assert json.loads(expiries[0]["old_image"]) == {"PK": "SESSION", "SK": "user#42", "ExpiresAt": 1689508000}


def test_item_history_puts_a_change_logged_late_at_its_own_time(tmp_path: Path) -> None:
    # GIVEN three changes of one item: the first parked for an hour and redriven after the other
    # two were logged live, so its line is the last written and the only one with its own time
    template = load_event("tutorial_modify")["Records"][0]
    now = int(time.time())

    def change(sequence_number: str, created: int, stocks: str) -> dict[str, Any]:
        record = copy.deepcopy(template)
        record["dynamodb"].update(SequenceNumber=sequence_number, ApproximateCreationDateTime=created)
        record["dynamodb"]["NewImage"]["Stocks"] = {"N": stocks}
        return {"Records": [record]}

    writer = ArchiveWriter(tmp_path, clock=time.time)
    lines = []
    for event in (change("200", now, "31"), change("300", now, "30"), change("100", now - 3600, "32")):
        lines += invoke(event).output.splitlines()
    writer(lines)
    logged = [json.loads(line) for line in lines if "event_name" in line]
    assert ["approximate_creation_time" in line for line in logged] == [False, False, True]

    # WHEN the saved query reads the item's history
    history = run_saved(connect(tmp_path), "ItemHistory", "FRUIT", "APPLE#WASHINGTON")

    # THEN it comes in the order of the changes, each with its time
    assert [json.loads(row["new_image"])["Stocks"] for row in history] == [32, 31, 30]
    assert history[0]["change_time"] == logged[2]["approximate_creation_time"]
    assert [row["change_time"] for row in history[1:]] == [line["timestamp"] for line in logged[:2]]
