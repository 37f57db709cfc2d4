"""make local --archive DIR: the story's change lines in the archive's layout, and the saved
Athena queries answering from them on DuckDB."""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path
from typing import Any

from tests.archive_sql import connect, run_saved
from tests.e2e.conftest import Result

OBJECT = re.compile(
    r"changes/year=(\d{4})/month=(\d{2})/day=(\d{2})/local-1-\1-\2-\3-\d{2}-\d{2}-\d{2}-[0-9a-f]{32}\.gz"
)


def test_the_archive_holds_exactly_the_change_lines_in_firehoses_layout(run_local: Any, tmp_path: Path) -> None:
    # WHEN the story runs with an archive folder
    before = time.time()
    result: Result = run_local("--archive", str(tmp_path / "archive"))
    after = time.time()

    # THEN each invocation wrote one object (the thirteen changes usually share one) in Firehose's layout,
    # and together they hold the change lines byte for byte as logged, and nothing else
    assert result.code == 0, result.stderr
    counted = re.search(r"; (\d+) invocation\(s\)", result.stderr)
    assert counted, result.stderr
    invocations = int(counted.group(1))
    paths = sorted(found for found in (tmp_path / "archive").rglob("*") if found.is_file())
    assert len(paths) == invocations
    archived: list[str] = []
    for path in paths:
        match = OBJECT.fullmatch(path.relative_to(tmp_path / "archive").as_posix())
        assert match, path
        # partitioned by the time the lines were written, in UTC, as Firehose by their arrival
        assert tuple(int(part) for part in match.groups()) in {time.gmtime(before)[:3], time.gmtime(after)[:3]}
        text = gzip.decompress(path.read_bytes()).decode()
        assert text.endswith("}\n")
        archived += text.splitlines()
    change_lines = [line for line in result.stdout.splitlines() if "event_name" in json.loads(line)]
    assert sorted(archived) == sorted(change_lines)
    assert len(change_lines) == 13 and len(result.lines) > 13  # the metrics line stays out
    assert f"archived 13 change line(s) in {invocations} object(s) under {tmp_path / 'archive'}" in result.stderr


def test_the_saved_queries_answer_from_the_story(run_local: Any, tmp_path: Path) -> None:
    # GIVEN the story's archive
    result: Result = run_local("--archive", str(tmp_path / "archive"))
    assert result.code == 0, result.stderr
    database = connect(tmp_path / "archive")
    path = min((tmp_path / "archive").rglob("*.gz"))
    match = OBJECT.fullmatch(path.relative_to(tmp_path / "archive").as_posix())
    assert match
    year, month, day = (int(part) for part in match.groups())

    # WHEN each saved query runs, as Athena gets it, with its parameters
    history = run_saved(database, "ItemHistory", "FRUIT", "APPLE#WASHINGTON")
    stocks = run_saved(database, "AttributeChanges", year, month, "Stocks")
    price = run_saved(database, "AttributeChanges", year, month, "Price")
    elsewhen = run_saved(database, "AttributeChanges", year + 1, month, "Stocks")
    expiries = run_saved(database, "TtlExpiries", year, month)
    per_day = run_saved(database, "ChangesPerDay", year, month)

    # THEN they tell the apple's story, in order, with the values as logged
    assert [row["event_name"] for row in history] == ["INSERT", "MODIFY", "MODIFY", "MODIFY"]
    assert [row["changed"] for row in history] == [None, ["Stocks"], ["Stocks"], ["Price"]]
    assert [json.loads(row["new_image"])["Stocks"] for row in history] == [39, 33, 32, 32]
    assert json.loads(history[-1]["new_image"])["Price"] == {"USD": 0.85, "INR": 50}
    # The apple's two stock changes, then the chair's restock (the story's last write).
    assert [json.loads(row["keys"]) for row in stocks] == [{"PK": "FRUIT", "SK": "APPLE#WASHINGTON"}] * 2 + [
        {"PK": "FURNITURE", "SK": "CHAIR#ERGONOMIC"}
    ]
    assert [json.loads(row["changes"]) for row in stocks] == [
        {"Stocks": {"old": 39, "new": 33}},
        {"Stocks": {"old": 33, "new": 32}},
        {"Stocks": {"old": 0, "new": 5}},
    ]
    assert len(price) == 1 and elsewhen == []
    # The mango's listing, which DynamoDB's TTL removed (simulated on moto); not ORANGE, which the story deletes.
    (expired,) = expiries
    assert json.loads(expired["keys"]) == {"PK": "FRUIT", "SK": "MANGO#ALPHONSO"}
    assert json.loads(expired["old_image"])["Stocks"] == 40
    assert [(row["day"], row["event_name"], row["changes"]) for row in per_day] == [
        (day, "INSERT", 7),
        (day, "MODIFY", 4),
        (day, "REMOVE", 2),
    ]
