"""Bad input: a clear ERROR line per record, reported in batchItemFailures, nothing lost."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .conftest import invoke, load_event


def _tutorial_record() -> dict[str, Any]:
    record: dict[str, Any] = load_event("tutorial_modify")["Records"][0]
    return record


def test_bad_record_is_reported_and_the_records_after_it_are_left_to_the_retry() -> None:
    # GIVEN a batch with one unparseable number between two good records
    event = load_event("batch_with_bad_record")

    # WHEN
    result = invoke(event)

    # THEN the bad record is a batch item failure, with one ERROR line; the record before it is
    # logged, the one after it is not: Lambda redelivers it from the checkpoint (fail fast)
    assert result.response == {"batchItemFailures": [{"itemIdentifier": "700000000000000000000000002"}]}
    assert [line["sequence_number"] for line in result.records] == ["700000000000000000000000001"]
    (error,) = result.level("ERROR")
    assert error["event_id"] == "bad0000001"
    assert error["sequence_number"] == "700000000000000000000000002"
    assert error["reason"] == "NewImage: Stocks: N value is not a number"
    assert error["request_id"] == "c6af9ac6-7b61-11e6-9a41-93e812345678"
    assert "thirty-two" not in result.output  # the reason names the place, never the value
    # and the log keeps the records' order around the ERROR line
    in_order = [(line["level"], line["sequence_number"]) for line in result.lines if "sequence_number" in line]
    assert in_order == [("INFO", "700000000000000000000000001"), ("ERROR", "700000000000000000000000002")]


def test_redelivery_from_the_checkpoint_logs_every_good_record_once() -> None:
    # GIVEN a batch of 100 with a poison record at position 3, delivered the way Lambda does with
    # bisection on: from the checkpoint, halved while the first record fails, the poison record
    # alone retried 10 times and parked
    good = _tutorial_record()
    records = []
    for index in range(100):
        record = copy.deepcopy(good)
        record["dynamodb"]["SequenceNumber"] = f"{800 + index}"
        if index == 2:
            _break(record, "not a number")
        records.append(record)
    logged: list[str] = []
    parked: list[str] = []
    pending = [records]
    while pending:
        batch = pending.pop(0)
        result = invoke({"Records": batch})
        logged += [line["sequence_number"] for line in result.records]
        failures = [failure["itemIdentifier"] for failure in result.response["batchItemFailures"]]
        if not failures:
            continue
        position = [record["dynamodb"]["SequenceNumber"] for record in batch].index(failures[0])
        if position > 0:  # checkpoint: the rest is redelivered
            pending.insert(0, batch[position:])
        elif len(batch) > 1:  # no progress: bisect
            half = (len(batch) + 1) // 2
            pending[:0] = [batch[:half], batch[half:]]
        else:
            for _ in range(10):  # the retries, each logging nothing
                assert invoke({"Records": batch}).records == []
            parked += failures

    # THEN each of the 99 good records is logged exactly once, and the bad one is parked
    assert parked == ["802"]
    assert sorted(logged) == sorted(f"{800 + index}" for index in range(100) if index != 2)
    assert len(logged) == len(set(logged)) == 99


# Each way of breaking a record: the attribute of the new image it sets, and to what.
BROKEN_VALUES: dict[str, tuple[str, Any]] = {
    "unknown type tag": ("Stocks", {"X": "32"}),
    "two type tags": ("Stocks", {"N": "32", "S": "32"}),
    "not a number": ("Stocks", {"N": "12abc"}),
    "too many digits": ("Stocks", {"N": "1" * 39}),
    "exponent too large": ("Stocks", {"N": "1E+126"}),
    "exponent too small": ("Stocks", {"N": "1E-131"}),
    "not finite": ("Stocks", {"N": "Infinity"}),
    "number not a string": ("Stocks", {"N": 32}),
    "broken base64": ("Blob", {"B": "not base64!"}),
    "broken base64 in a set": ("Blobs", {"BS": ["AA==", "A"]}),
    "nested error": ("Price", {"M": {"USD": {"N": "0,8"}}}),
    "bool not a boolean": ("Flag", {"BOOL": "yes"}),
}


def _break(record: dict[str, Any], how: str) -> None:
    stream = record["dynamodb"]
    if how == "image not an object":
        stream["NewImage"] = ["not", "an", "object"]
    elif how == "bad creation time":
        stream["ApproximateCreationDateTime"] = "yesterday"
    elif how == "keys missing":
        del stream["Keys"]
    elif how in BROKEN_VALUES:
        name, value = BROKEN_VALUES[how]
        stream["NewImage"][name] = value
    else:
        raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "image not an object",
        "unknown type tag",
        "two type tags",
        "not a number",
        "too many digits",
        "exponent too large",
        "exponent too small",
        "not finite",
        "number not a string",
        "broken base64",
        "broken base64 in a set",
        "nested error",
        "bool not a boolean",
        "bad creation time",
        "keys missing",
    ],
)
def test_malformed_record_fails_alone(how: str) -> None:
    good = _tutorial_record()
    bad = copy.deepcopy(good)
    bad["dynamodb"]["SequenceNumber"] = "999"
    bad["eventID"] = "broken"
    _break(bad, how)

    result = invoke({"Records": [good, bad, good]})

    assert result.response == {"batchItemFailures": [{"itemIdentifier": "999"}]}
    assert len(result.records) == 1  # the one before it; the one after is redelivered
    (error,) = result.level("ERROR")
    assert error["event_id"] == "broken" and error["sequence_number"] == "999"
    assert error["reason"]


def test_error_reason_says_where() -> None:
    bad = _tutorial_record()
    _break(bad, "nested error")

    (error,) = invoke({"Records": [bad]}).level("ERROR")

    assert error["reason"] == "NewImage: Price.USD: N value is not a number"


def test_record_without_dynamodb_section_fails_the_whole_batch_rather_than_vanish() -> None:
    # Without a sequence number Lambda cannot checkpoint past it; an empty identifier makes
    # Lambda treat the batch as failed, so it is retried and bisected, never skipped.
    good = _tutorial_record()
    bad = {"eventID": "nodynamodb", "eventName": "INSERT"}

    result = invoke({"Records": [good, bad]})

    assert result.response == {"batchItemFailures": [{"itemIdentifier": ""}]}
    assert len(result.records) == 1
    (error,) = result.level("ERROR")
    assert error["reason"] == "record has no dynamodb section"
    assert error["event_id"] == "nodynamodb"


@pytest.mark.parametrize("record", ["text", 42, None, [], {"eventName": "UPSERT", "dynamodb": {}}])
def test_record_of_the_wrong_shape_is_reported(record: Any) -> None:
    result = invoke({"Records": [record]})

    assert len(result.response["batchItemFailures"]) == 1
    assert len(result.level("ERROR")) == 1


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": None}, {"Records": "x"}, None, []])
def test_event_without_records_warns_and_returns_no_failures(event: Any) -> None:
    result = invoke(event)

    assert result.response == {"batchItemFailures": []}
    (warning,) = result.level("WARN")  # the name Lambda's log-level filtering knows
    assert "no Records" in warning["message"]
    assert result.records == []


def test_one_metrics_line_per_invocation_counts_the_records_logged_by_event_name_and_failures() -> None:
    event = load_event("all_types")
    event["Records"].extend(load_event("batch_with_bad_record")["Records"])

    result = invoke(event)

    (metrics,) = result.metrics
    assert metrics["InsertRecords"] == [2]  # all_types' and the good record before the bad one
    assert metrics["ModifyRecords"] == [1]
    assert metrics["RemoveRecords"] == [1]
    assert metrics["FailedRecords"] == [1]
    assert metrics["level"] == "INFO"  # so that Lambda's log-level filtering keeps it
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "InventoryStream"
    assert metrics["service"] == "inventory"


def test_metrics_line_is_written_for_an_empty_event_too() -> None:
    (metrics,) = invoke({"Records": []}).metrics

    assert metrics["FailedRecords"] == [0]


def test_a_bug_in_rendering_is_still_reported_per_record(monkeypatch: pytest.MonkeyPatch) -> None:
    import stream_logger

    def broken(record: Any) -> Any:
        raise KeyError("secret-value")

    monkeypatch.setattr(stream_logger, "render_record", broken)

    result = invoke(load_event("tutorial_modify"))

    assert result.response == {"batchItemFailures": [{"itemIdentifier": "686242300000000012474772171"}]}
    (error,) = result.level("ERROR")
    assert error["reason"] == "unexpected KeyError"
    assert "secret-value" not in result.output


@pytest.mark.parametrize(
    ("redact", "image", "reason"),
    [
        # a map key under a redacted attribute is that attribute's data
        (["emails"], {"emails": {"M": {"E1_erraddr@x.com": {"N": "x"}}}}, "NewImage: emails.[REDACTED]: N value"),
        (["card.number"], {"card": {"M": {"number": {"M": {"k@x": {"N": "x"}}}}}}, "card.number.[REDACTED]: N"),
        (["items.email"], {"items": {"L": [{"M": {"email": {"M": {"k@x": {"N": "x"}}}}}]}}, "items.0.email.[REDACTED]"),
        # a name that is not short printable text is not echoed
        ([], {"a\nb@x": {"N": "x"}}, "NewImage: ?: N value is not a number"),
        ([], {"n" * 5_000: {"N": "x"}}, "NewImage: ?: N value is not a number"),
        # a type tag outside DynamoDB's ten is named "unknown", not echoed
        ([], {"Stocks": {"secret@x.com": "1"}}, "NewImage: Stocks: unknown type tag (not one of DynamoDB's ten)"),
    ],
)
def test_an_error_reason_names_no_value_and_no_name_under_a_redacted_attribute(
    redact: list[str], image: dict[str, Any], reason: str
) -> None:
    from .conftest import configured

    record = _tutorial_record()
    record["dynamodb"]["NewImage"].update(image)

    with configured(redact=redact):
        result = invoke({"Records": [record]})

    (error,) = result.level("ERROR")
    assert reason in error["reason"]
    assert "@x" not in result.output and "nnnnnnnnnn" not in result.output
