"""local/archive.py: the archive's filter pattern, object keys and objects, without DynamoDB."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from local import archive

# One of each kind of line the function writes (README: Log line format).
RECORD = (
    '{"level":"INFO","timestamp":"2026-11-23T15:50:08.583Z","message":"MODIFY FRUIT / APPLE#WASHINGTON",'
    '"request_id":"r1","event_name":"MODIFY","sequence_number":"1","keys":{"PK":"FRUIT","SK":"APPLE#WASHINGTON"},'
    '"changes":{"Stocks":{"old":33,"new":32}},"changed":["Stocks"]}'
)
INVOCATION = (
    '{"level":"INFO","timestamp":"2026-11-23T15:50:08.582Z","message":"Batch of 1 record(s) from table Cloud9",'
    '"request_id":"r1","service":"inventory","cold_start":true,"table":"Cloud9","record_count":1}'
)
ERROR = (
    '{"level":"ERROR","timestamp":"2026-11-23T15:50:08.584Z","message":"Record cannot be processed: Keys is empty",'
    '"request_id":"r1","event_id":"e2","sequence_number":"2","reason":"Keys is empty"}'
)
METRICS = '{"level":"INFO","_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"InsertRecords":[1]}'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (RECORD, True),
        (INVOCATION, False),
        (ERROR, False),
        (METRICS, False),
        ("not json at all", False),
        ('["event_name"]', False),
        ('{"message":"has \\"event_name\\" in its text"}', False),
        ('{"event_name":""}', True),
        ('{"event_name":null}', False),
        ('{"event_name":{"nested":1}}', False),
    ],
)
def test_the_subscription_filter_keeps_exactly_the_change_lines(line: str, expected: bool) -> None:
    assert archive.is_change_line(line) is expected


@pytest.mark.parametrize(
    ("pattern", "line", "expected"),
    [
        ('{ $.level = "ERROR" }', ERROR, True),
        ('{ $.level = "ERR*" }', ERROR, True),
        ('{ $.level = "ERROR" }', RECORD, False),
        ('{ $.keys.PK = "FRU*" }', RECORD, True),
        ('{ $.keys.SK = "*#OREGON" }', RECORD, False),
        ('{ $.cold_start = "true" }', INVOCATION, True),
    ],
)
def test_the_matcher_compares_a_member_with_wildcards(pattern: str, line: str, expected: bool) -> None:
    assert archive.compile_pattern(pattern)(line) is expected


@pytest.mark.parametrize(
    "pattern", ["ERROR", '{ $.level != "ERROR" }', "{ $.a = 1 }", '{ ($.a = "x") || ($.b = "y") }']
)
def test_a_pattern_the_matcher_does_not_know_is_refused(pattern: str) -> None:
    with pytest.raises(archive.PatternError, match="unsupported filter pattern"):
        archive.compile_pattern(pattern)


def test_object_keys_are_firehoses_with_utc_date_partitions() -> None:
    # 2026-12-31 23:59:59 UTC, whatever the machine's time zone
    key = archive.object_key(1798761599.0)

    assert key.startswith("changes/year=2026/month=12/day=31/local-1-2026-12-31-23-59-59-")
    assert key.endswith(".gz")
    assert archive.object_key(1798761599.0) != key  # a random id, as Firehose's


def test_each_invocation_writes_one_gzip_object_of_its_change_lines(tmp_path: Path) -> None:
    writer = archive.ArchiveWriter(tmp_path, clock=lambda: 1798761599.0)

    writer([INVOCATION, RECORD, ERROR, RECORD.replace('"MODIFY"', '"INSERT"'), METRICS])
    writer([INVOCATION, METRICS])  # nothing to archive: no object

    (path,) = writer.objects
    assert writer.lines == 2
    lines = gzip.decompress(path.read_bytes()).decode().splitlines(keepends=True)
    assert [json.loads(line)["event_name"] for line in lines] == ["MODIFY", "INSERT"]
    assert all(line.endswith("}\n") for line in lines)
