"""The contract: one exact, readable JSON line per stream record."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rfc3339_validator import validate_rfc3339

import dynamo_json
import line_render
import line_writer
import stream_logger

from .conftest import configured, invoke, load_event

TUTORIAL_NEW_IMAGE = {
    "PK": "FRUIT",
    "SK": "APPLE#WASHINGTON",
    "Price": {"USD": Decimal("0.8"), "INR": 50},
    "Stocks": 32,
}


def test_tutorial_record_comes_out_as_the_tutorial_shows_it() -> None:
    # GIVEN the console tutorial's MODIFY record (Stocks 33 -> 32)
    event = load_event("tutorial_modify")

    # WHEN the handler runs
    result = invoke(event)

    # THEN one line logs the new image and the old values of what changed, with real JSON numbers
    assert result.response == {"batchItemFailures": []}
    (line,) = result.records
    assert line["message"] == "MODIFY FRUIT / APPLE#WASHINGTON"
    assert line["event_name"] == "MODIFY"
    assert line["sequence_number"] == "686242300000000012474772171"
    assert line["approximate_creation_time"] == "2023-07-16T11:57:04Z"
    assert line["keys"] == {"PK": "FRUIT", "SK": "APPLE#WASHINGTON"}
    assert line["new_image"] == TUTORIAL_NEW_IMAGE
    assert line["changes"] == {"Stocks": {"old": 33, "new": 32}}
    assert line["changed"] == ["Stocks"]
    assert "old_image" not in line and "user_identity" not in line


def _changed_seconds_ago(seconds: float) -> dict[str, Any]:
    event = load_event("tutorial_modify")
    event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] = int(time.time() - seconds)
    return event


def test_record_line_carries_only_what_places_it_and_the_change() -> None:
    # The Lambda context is the same for every record of an invocation: it is on its own line;
    # a change logged as it happens needs no time of its own besides the line's.
    result = invoke(_changed_seconds_ago(0))

    (line,) = result.records
    assert list(line) == [
        "level",
        "timestamp",
        "message",
        "request_id",
        "event_name",
        "sequence_number",
        "keys",
        "new_image",
        "changes",
        "changed",
    ]
    assert line["request_id"] == "c6af9ac6-7b61-11e6-9a41-93e812345678"


@pytest.mark.parametrize(
    ("age", "shown"),
    [(0, False), (50, False), (-50, False), (62, True), (3600, True), (86_400 * 3, True), (-120, True)],
)
def test_a_change_logged_a_minute_or_more_late_carries_its_own_time(age: float, shown: bool) -> None:
    # A backlog, a retry or a redrive logs a change late (a negative age: a clock ahead of
    # the log's): then the line's timestamp no longer says when the change happened, and the
    # line says it itself.
    event = _changed_seconds_ago(age)
    created = event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"]

    (line,) = invoke(event).records

    assert ("approximate_creation_time" in line) is shown
    if shown:
        assert line["approximate_creation_time"] == datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert list(line).index("approximate_creation_time") == list(line).index("sequence_number") + 1
    else:  # the line's own time is within a minute of the change
        logged = datetime.fromisoformat(line["timestamp"]).timestamp()
        assert abs(logged - created) < line_render.LATE_SECONDS


def test_a_live_change_with_a_bad_creation_time_is_still_refused() -> None:
    # Not shown is not unchecked: a creation time no stream sends (milliseconds) is refused.
    event = _changed_seconds_ago(0)
    event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] *= 1000

    result = invoke(event)

    assert result.response == {"batchItemFailures": [{"itemIdentifier": "686242300000000012474772171"}]}


def test_tutorial_line_is_literal_json_with_exact_numbers_and_key_order() -> None:
    result = invoke(load_event("tutorial_modify"))

    assert (
        '"new_image":{"PK":"FRUIT","SK":"APPLE#WASHINGTON","Price":{"USD":0.8,"INR":50},"Stocks":32}' in result.output
    )
    assert '"changed":["Stocks"]' in result.output


def test_one_line_per_invocation_carries_the_powertools_logger_keys() -> None:
    result = invoke(load_event("all_types"))

    line = result.invocation_line
    assert result.lines[0] == line  # before the records
    assert line["level"] == "INFO"
    assert line["service"] == "inventory"
    assert line["function_name"] == "inventory-stream-logger"
    assert line["request_id"] == "c6af9ac6-7b61-11e6-9a41-93e812345678"
    assert line["function_memory_size"] == 256
    assert line["function_arn"].endswith(":function:inventory-stream-logger")
    assert isinstance(line["cold_start"], bool)
    assert line["table"] == "Cloud9"
    assert line["record_count"] == 3
    assert line["first_sequence_number"] < line["last_sequence_number"]
    assert "event_name" not in line  # it is not a change line
    assert validate_rfc3339(line["timestamp"])


def test_every_line_option_repeats_the_powertools_keys_on_each_record_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_logger, "LOG_CONTEXT_KEYS", "EVERY_LINE")

    (line,) = invoke(load_event("tutorial_modify")).records

    for key in ("service", "cold_start", "function_name", "function_memory_size", "function_arn", "table"):
        assert key in line
    assert line["function_request_id"] == line["request_id"] == "c6af9ac6-7b61-11e6-9a41-93e812345678"
    assert line["location"] == "handler"


def test_timestamp_is_the_time_of_writing_to_the_millisecond() -> None:
    event = load_event("tutorial_modify")
    stamps = []
    for _ in range(3):
        before = datetime.now(UTC).replace(microsecond=0)
        (line,) = invoke(event).records
        after = datetime.now(UTC)
        assert validate_rfc3339(line["timestamp"]) and line["timestamp"].endswith("Z")
        stamp = datetime.strptime(line["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
        assert before <= stamp <= after
        stamps.append(stamp)
        time.sleep(0.002)

    assert stamps == sorted(set(stamps))  # it moves on: no timestamp is reused across milliseconds


def test_each_record_is_exactly_one_line_of_stdout() -> None:
    result = invoke(load_event("all_types"))

    record_lines = [text for text in result.output.splitlines() if '"event_name"' in text]
    assert len(record_lines) == 3
    assert [line["event_name"] for line in result.records] == ["INSERT", "MODIFY", "REMOVE"]


def test_every_type_maps_to_plain_json() -> None:
    insert, modify, remove = invoke(load_event("all_types")).records

    assert insert["new_image"] == {
        "PK": "FRUIT",
        "SK": "MANGO#ALPHONSO",
        "Name": "Alphonso mango",
        "Stocks": 12,
        "Weight": Decimal("-0.25"),
        "Thumbnail": "iVBORw0KGgo=",
        "Organic": True,
        "Seasonal": False,
        "Discontinued": None,
        "Tags": ["indian", "ripe", "sweet"],
        "Sizes": [Decimal("-2.5"), 3, 10, 100],
        "Hashes": ["YWJj", "YmFy", "Zm9v"],
        "Suppliers": ["Ratnagiri", 7, True, None],
        "Price": {"USD": Decimal("1.25"), "INR": 99},
    }
    assert "old_image" not in insert and "changed" not in insert
    assert modify["changed"] == ["Discontinued", "Rating", "Stocks", "Tags"]
    assert modify["message"] == "MODIFY FRUIT / MANGO#ALPHONSO"
    assert remove["old_image"]["Tags"] == ["ripe", "sweet"]
    assert "new_image" not in remove and "changed" not in remove
    assert remove["message"] == "REMOVE FRUIT / MANGO#ALPHONSO"


def test_number_set_is_sorted_numerically_not_as_text() -> None:
    assert '"Sizes":[-2.5,3,10,100]' in invoke(load_event("all_types")).output


def test_nested_maps_and_lists_of_maps_keep_their_depth() -> None:
    (line,) = invoke(load_event("nested")).records

    image = line["new_image"]
    assert image["Customer"]["Address"]["Geo"] == {
        "Lat": Decimal("18.5204"),
        "Lon": Decimal("73.8567"),
        "Tags": ["home"],
    }
    assert image["Lines"][0] == {"Sku": "APPLE#WASHINGTON", "Qty": 3, "Price": {"USD": Decimal("0.8")}}
    assert image["Lines"][1]["Notes"] == [["deep"]]


@pytest.mark.parametrize(
    ("attribute", "literal"),
    [
        ("ThirtyEight", "12345678901234567890123456789012345678"),
        ("ThirtyEightFraction", "1234567890123456789.0123456789012345678"),
        ("Tutorial", "12345678901234567890.123456789"),
        ("Tiny", "1E-130"),
        ("Huge", "9.9999999999999999999999999999999999999E+125"),
        ("NegativeTiny", "-1E-130"),
        ("NegativeHuge", "-9.9999999999999999999999999999999999999E+125"),
        ("LongTiny", "0.000000000000000000000000000000000000000000000001"),
        ("Zero", "0"),
        ("Int", "50"),
        ("Fraction", "0.8"),
    ],
)
def test_numbers_are_exact_json_numbers(attribute: str, literal: str) -> None:
    result = invoke(load_event("numbers"))

    (line,) = result.records
    value = line["new_image"][attribute]
    assert not isinstance(value, (str, float))
    assert Decimal(value) == Decimal(literal)
    assert f'"{attribute}":{literal}' in result.output


def test_binary_values_stay_base64_and_binary_sets_are_sorted() -> None:
    (line,) = invoke(load_event("binary")).records

    assert line["new_image"]["Data"] == "AAECAwQ="
    assert line["new_image"]["Empty"] == ""
    assert line["new_image"]["Set"] == ["AA==", "aGVsbG8=", "d29ybGQ="]


def test_empty_strings_lists_and_maps() -> None:
    # Empty sets cannot be stored: test_dynamodb_rules.py
    (line,) = invoke(load_event("empty_values")).records

    assert line["new_image"] == {"PK": "EMPTY", "SK": "1", "Blank": "", "NoList": [], "NoMap": {}}


def test_ttl_deletion_is_marked_in_a_field_and_in_the_message() -> None:
    (line,) = invoke(load_event("ttl_remove")).records

    assert line["event_name"] == "REMOVE"
    assert line["ttl_expired"] is True
    assert line["message"].endswith("(expired by TTL)")
    assert line["old_image"]["ExpiresAt"] == 1689508000
    assert "user_identity" not in line  # ttl_expired says what it said


@pytest.mark.parametrize(
    "identity",
    [
        {"type": "Service", "principalId": "other.amazonaws.com"},
        {"type": "User", "principalId": "dynamodb.amazonaws.com"},
        {"type": "Service"},
    ],
)
def test_a_remove_by_anyone_else_is_a_delete_with_its_identity(identity: dict[str, str]) -> None:
    event = load_event("ttl_remove")
    event["Records"][0]["userIdentity"] = identity

    (line,) = invoke(event).records

    assert "ttl_expired" not in line and "expired" not in line["message"]
    assert line["user_identity"] == identity


def test_the_handlers_and_the_alerts_filter_know_one_ttl_identity() -> None:
    # The handlers cannot import the library: its copy, which the alerts' event filter and
    # the local run use, must say the same.
    from stacks.table_stream_logger._core.record_formats import STREAMS_TTL_IDENTITY, TTL_IDENTITY

    assert dynamo_json.TTL_IDENTITY == TTL_IDENTITY == load_event("ttl_remove")["Records"][0]["userIdentity"]
    assert STREAMS_TTL_IDENTITY == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}


def test_a_ttl_identity_with_more_members_is_an_expiry_that_keeps_them() -> None:
    # The TTL's two members decide, as in the alerts' filter; anything more is logged as received.
    event = load_event("ttl_remove")
    identity = {"type": "Service", "principalId": "dynamodb.amazonaws.com", "reason": "expired"}
    event["Records"][0]["userIdentity"] = identity

    (line,) = invoke(event).records

    assert line["ttl_expired"] is True and line["message"].endswith("(expired by TTL)")
    assert line["user_identity"] == identity


def test_a_modify_by_the_ttl_identity_is_no_expiry_and_says_who() -> None:
    event = load_event("ttl_remove")
    record = event["Records"][0]
    record["eventName"] = "MODIFY"
    record["dynamodb"]["NewImage"] = {**record["dynamodb"]["OldImage"], "ExpiresAt": {"N": "1"}}

    (line,) = invoke(event).records

    assert "ttl_expired" not in line and "expired" not in line["message"]
    assert line["user_identity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def test_a_user_delete_has_no_ttl_mark() -> None:
    event = load_event("ttl_remove")
    del event["Records"][0]["userIdentity"]

    (line,) = invoke(event).records

    assert "ttl_expired" not in line and "user_identity" not in line


def test_key_order_follows_key_attributes_setting() -> None:
    with configured(key_attributes=["SK", "PK"]):
        (line,) = invoke(load_event("tutorial_modify")).records

    assert line["message"] == "MODIFY APPLE#WASHINGTON / FRUIT"
    assert list(line["keys"]) == ["SK", "PK"]
    assert list(line["new_image"])[:2] == ["SK", "PK"]


def test_without_key_attributes_key_names_are_sorted() -> None:
    with configured(key_attributes=[]):
        (line,) = invoke(load_event("tutorial_modify")).records

    assert line["message"] == "MODIFY FRUIT / APPLE#WASHINGTON"
    assert list(line["keys"]) == ["PK", "SK"]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1689508624, "2023-07-16T11:57:04Z"),
        (1689508624.25, "2023-07-16T11:57:04.250000Z"),
        (1689508624.0000004, "2023-07-16T11:57:04Z"),
        (1689508624.9999996, "2023-07-16T11:57:05Z"),
        (0.5, "1970-01-01T00:00:00.500000Z"),
    ],
)
def test_creation_time_is_iso_utc_to_the_microsecond(seconds: float, expected: str) -> None:
    event = load_event("tutorial_modify")
    event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] = seconds

    (line,) = invoke(event).records

    assert line["approximate_creation_time"] == expected


def test_records_sharing_or_not_a_creation_time_each_get_their_own() -> None:
    record = load_event("tutorial_modify")["Records"][0]
    times = [1689508624, 1689508624, 1689508625.5, 1689508624, 1689508625.5]
    event = {
        "Records": [{**record, "dynamodb": {**record["dynamodb"], "ApproximateCreationDateTime": t}} for t in times]
    }

    lines = invoke(event).records

    assert [line["approximate_creation_time"] for line in lines] == [
        "2023-07-16T11:57:04Z",
        "2023-07-16T11:57:04Z",
        "2023-07-16T11:57:05.500000Z",
        "2023-07-16T11:57:04Z",
        "2023-07-16T11:57:05.500000Z",
    ]


def test_modify_without_changes_names_none() -> None:
    event = load_event("tutorial_modify")
    stream = event["Records"][0]["dynamodb"]
    stream["NewImage"] = stream["OldImage"]

    (line,) = invoke(event).records

    assert line["changed"] == []
    assert line["message"] == "MODIFY FRUIT / APPLE#WASHINGTON"


def test_set_order_alone_is_not_a_change() -> None:
    event = load_event("all_types")
    stream = event["Records"][1]["dynamodb"]
    stream["NewImage"] = dict(stream["OldImage"], Tags={"SS": ["ripe", "sweet", "indian"]})

    line = invoke(event).records[1]

    assert line["changed"] == []


def test_lines_are_written_in_chunks_of_whole_lines() -> None:
    # GIVEN a batch whose log is several times the size the handler writes at once
    record = load_event("tutorial_modify")["Records"][0]
    numbers = [f"{7 * 10**20 + index}" for index in range(1000)]
    event = {"Records": [{**record, "dynamodb": {**record["dynamodb"], "SequenceNumber": n}} for n in numbers]}

    # WHEN
    result = invoke(event)

    # THEN every record is logged, in order, with a write per chunk of whole lines rather than per line
    assert [line["sequence_number"] for line in result.records] == numbers
    record_writes = [text for text in result.writes if '"event_name"' in text]
    assert all(text.endswith("\n") for text in record_writes)
    logged = sum(len(text) for text in record_writes)
    assert logged > 4 * line_writer.Lines.SIZE
    assert 1 < len(record_writes) <= logged // line_writer.Lines.SIZE + 1
