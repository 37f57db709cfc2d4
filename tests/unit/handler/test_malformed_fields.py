"""Records no DynamoDB stream sends, malformed in a field outside the images: whatever the field, the
record gets a per-record outcome (logged, or reported with an ERROR line) and every line is JSON,
UTF-8 and at most MAX_LINE_BYTES long (conftest.invoke checks all three on every line)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import oversized

from .conftest import configured, invoke, load_event

HUGE = "x" * 300_000  # more than the line limit by itself


def _batch(how: str) -> list[dict[str, Any]]:
    """A good record, the broken one (sequence number 999), a good one."""
    good: dict[str, Any] = load_event("tutorial_modify")["Records"][0]
    bad = copy.deepcopy(good)
    bad["dynamodb"]["SequenceNumber"] = "999"
    bad["eventID"] = "broken"
    stream = bad["dynamodb"]
    if how == "lone surrogate in a value":
        stream["NewImage"]["Name"] = {"S": "caf\ud800"}
    elif how == "lone surrogate in a name":
        stream["NewImage"]["caf\ud800"] = {"S": "x"}
    elif how == "lone surrogate in a key":
        stream["Keys"]["SK"] = stream["NewImage"]["SK"] = stream["OldImage"]["SK"] = {"S": "\ud800"}
    elif how == "lone surrogate in userIdentity":
        bad["userIdentity"] = {"type": "Service", "principalId": "\udfff"}
    elif how == "huge userIdentity":
        bad["userIdentity"] = {"type": "Service", "principalId": HUGE}
    elif how == "NaN in userIdentity":
        bad["userIdentity"] = {"type": "Service", "principalId": float("nan")}
    elif how == "huge key":
        stream["Keys"]["SK"] = stream["NewImage"]["SK"] = stream["OldImage"]["SK"] = {"S": HUGE}
    elif how == "huge sequence number":
        stream["SequenceNumber"] = "9" * 300_000
    elif how == "NaN sequence number":
        stream["SequenceNumber"] = float("nan")
    elif how == "numeric sequence number":
        stream["SequenceNumber"] = 999
    else:
        raise AssertionError(how)
    return [good, bad, copy.deepcopy(good)]


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("lone surrogate in a value", "a string or name is not valid Unicode"),
        ("lone surrogate in a name", "a string or name is not valid Unicode"),
        ("lone surrogate in a key", "a string or name is not valid Unicode"),
        ("lone surrogate in userIdentity", "a string or name is not valid Unicode"),
        ("huge userIdentity", "its keys and userIdentity alone pass the limit of 256000"),
        ("NaN in userIdentity", "userIdentity is not JSON (NaN or Infinity)"),
        ("huge key", "its keys and userIdentity alone pass the limit of 256000"),
        ("huge sequence number", "SequenceNumber is not a string of 1 to 64 ASCII characters"),
        ("NaN sequence number", "SequenceNumber is not a string of 1 to 64 ASCII characters"),
        ("numeric sequence number", "SequenceNumber is not a string of 1 to 64 ASCII characters"),
    ],
)
def test_a_record_malformed_outside_its_images_fails_alone_with_valid_lines(how: str, reason: str) -> None:
    # GIVEN a batch whose second record is malformed in a field that is not an image's value
    records = _batch(how)

    # WHEN
    result = invoke({"Records": records})

    # THEN the invocation ends; the record before is logged, the bad one reported, the one after left
    # to Lambda's redelivery; the ERROR line carries no part of the value
    sequence_number = records[1]["dynamodb"]["SequenceNumber"]
    expected = sequence_number if type(sequence_number) is str else ""
    assert result.response == {"batchItemFailures": [{"itemIdentifier": expected}]}
    assert [line["sequence_number"] for line in result.records] == ["686242300000000012474772171"]
    (error,) = result.level("ERROR")
    assert reason in error["reason"]
    assert error["event_id"] == "broken"
    assert error.get("sequence_number") == ("999" if expected == "999" else None)
    assert "xxxxxxxxxx" not in result.output and "999999999" not in result.output


def test_a_lone_surrogate_in_a_redacted_value_never_reaches_the_line() -> None:
    record = _batch("lone surrogate in a value")[1]

    with configured(redact=["Name"]):
        result = invoke({"Records": [record]})

    assert result.response == {"batchItemFailures": []}
    (line,) = result.records
    assert line["new_image"]["Name"] == "[REDACTED]"


def test_a_huge_event_id_is_left_out_of_the_error_line() -> None:
    # GIVEN a malformed record whose eventID alone is longer than a line may be
    (good, bad, _) = _batch("NaN in userIdentity")
    bad["eventID"] = "e" * 600_000

    result = invoke({"Records": [good, bad]})

    # THEN the ERROR line is short, and still names the record by its sequence number
    (error,) = result.level("ERROR")
    assert error.get("event_id") is None and error["sequence_number"] == "999"
    assert "eeeeeeeeee" not in result.output


@pytest.mark.parametrize("sequence_number", [float("nan"), "9" * 300_000, "\ud800"])
def test_the_invocation_line_names_only_sequence_numbers_that_are_text(sequence_number: Any) -> None:
    (_, bad, _) = _batch("numeric sequence number")
    bad["dynamodb"]["SequenceNumber"] = sequence_number

    result = invoke({"Records": [bad]})

    assert result.invocation_line["first_sequence_number"] is None
    assert len(result.level("ERROR")) == 1


@pytest.mark.parametrize("table", ["T" * 300_000, "caf\ud800", "a b"])
def test_a_table_name_that_is_not_one_is_not_logged(table: str) -> None:
    (good, _, _) = _batch("numeric sequence number")
    good["eventSourceARN"] = f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2023"

    result = invoke({"Records": [good]})

    assert result.invocation_line["table"] is None
    assert result.response == {"batchItemFailures": []}


def test_an_oversized_record_whose_keys_alone_are_too_long_is_not_copied(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a failure bucket, and a record whose key is too long for any shortened line
    monkeypatch.setattr(oversized, "FAILURE_BUCKET", "failures")
    monkeypatch.setattr(oversized, "_s3", lambda: pytest.fail("copied"))
    (_, bad, _) = _batch("huge key")

    result = invoke({"Records": [bad]})

    # THEN the record is reported (Lambda parks it whole) and no copy is written
    assert result.response == {"batchItemFailures": [{"itemIdentifier": "999"}]}
    assert result.records == []
