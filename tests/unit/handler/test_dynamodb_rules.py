"""Values DynamoDB cannot produce: refused with a reason, the record reported and parked whole.

Numbers at both ends of DynamoDB's range are logged exactly; sets DynamoDB cannot store and
creation times no stream can send are refused. Each record is invoked on its own, so that
no assertion depends on what the handler does with the records after a failed one.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

import dynamo_json

from .conftest import Invocation, invoke, load_event


def _invoke_with(**attributes: Any) -> Invocation:
    """The tutorial's MODIFY record, with these attributes added to its NewImage."""
    event = load_event("tutorial_modify")
    event["Records"][0]["dynamodb"]["NewImage"].update(attributes)
    return invoke(event)


def _refused(result: Invocation) -> str:
    """The one record was refused: no change line, one ERROR line, one batch item failure."""
    assert result.records == []
    (error,) = result.level("ERROR")
    assert result.response == {"batchItemFailures": [{"itemIdentifier": error["sequence_number"]}]}
    reason: str = error["reason"]
    return reason


# --- numbers ------------------------------------------------------------------------------

ONE_AND_125_ZEROS = "1" + "0" * 125
THIRTY_EIGHT_NINES = "9" * 38


@pytest.mark.parametrize(
    "literal",
    [
        ONE_AND_125_ZEROS,  # 126 digits, one significant: 1E+125
        "1" + "0" * 38,  # 39 digits, one significant
        THIRTY_EIGHT_NINES + "0" * 88,  # 126 digits, 38 significant: the largest DynamoDB number
        "-" + THIRTY_EIGHT_NINES + "0" * 88,
        "9." + "9" * 37 + "E+125",
        "1E-130",  # the smallest
        "-1E-130",
        "0." + "0" * 129 + "1",  # 1E-130 written out
        "1." + "0" * 60,  # trailing zeros are not significant
        "0." + "0" * 50 + THIRTY_EIGHT_NINES,
        "-0",
        "0.000",
        "0E+200",  # zero has no magnitude to be out of range
    ],
)
def test_numbers_dynamodb_can_hold_are_logged_exactly(literal: str) -> None:
    result = _invoke_with(Amount={"N": literal})

    (line,) = result.records
    assert line["new_image"]["Amount"] == Decimal(literal)
    assert '"Amount":"' not in result.output  # a JSON number, not a string


@pytest.mark.parametrize(
    "literal",
    [
        "1" * 39,  # 39 significant digits
        "1" + "0" * 37 + "1",
        "1." + "0" * 37 + "1",
        "-" + THIRTY_EIGHT_NINES + "9",
        "1" + "0" * 126,  # 1E+126
        "10E+125",
        "1E+126",
        "1E-131",
        "0.1E-130",
        "-9.9E-131",
        "1E+99999999999999999999",
    ],
)
def test_numbers_dynamodb_cannot_hold_are_refused(literal: str) -> None:
    reason = _refused(_invoke_with(Amount={"N": literal}))

    assert reason.startswith("NewImage: Amount: N value ")
    assert "significant digits" in reason or "out of DynamoDB's range" in reason


def test_a_number_set_is_refused_for_one_bad_member() -> None:
    reason = _refused(_invoke_with(Amounts={"NS": ["1", "1E+126"]}))

    assert reason == "NewImage: Amounts: N value is out of DynamoDB's range (1E-130 to 9.9E+125)"


# --- sets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "reason"),
    [
        ({"SS": []}, "SS value is an empty set"),
        ({"NS": []}, "NS value is an empty set"),
        ({"BS": []}, "BS value is an empty set"),
        ({"SS": ["red", "green", "red"]}, "SS value repeats a member"),
        ({"NS": ["1", "2", "1"]}, "NS value repeats a member"),
        # the same number spelt twice: DynamoDB compares numbers by value
        ({"NS": ["1", "1.0"]}, "NS value repeats a member"),
        ({"NS": ["1E+2", "100"]}, "NS value repeats a member"),
        ({"BS": ["AAE=", "AAE="]}, "BS value repeats a member"),
        # three fixtures of other projects list a binary twice, as here
        ({"BS": ["U3Vubnk=", "UmFpbnk=", "U25vd3k=", "U3Vubnk="]}, "BS value repeats a member"),
    ],
)
def test_a_set_dynamodb_cannot_store_is_refused(attribute: dict[str, Any], reason: str) -> None:
    result = _invoke_with(Tags=attribute)

    assert _refused(result) == f"NewImage: Tags: {reason}"


def test_a_set_nested_in_a_map_is_checked_too() -> None:
    reason = _refused(_invoke_with(Details={"M": {"Colours": {"SS": ["red", "red"]}}}))

    assert reason == "NewImage: Details.Colours: SS value repeats a member"


@pytest.mark.parametrize(
    ("attribute", "logged"),
    [
        ({"SS": ["red", "Red", "red "]}, ["Red", "red", "red "]),  # case and spaces make members differ
        ({"NS": ["1", "-1", "0.1"]}, [-1, Decimal("0.1"), 1]),
        ({"BS": ["AAE=", "AAI="]}, ["AAE=", "AAI="]),
        ({"SS": [""]}, [""]),  # an empty string is a member, the set is not empty
    ],
)
def test_sets_of_distinct_members_are_logged(attribute: dict[str, Any], logged: list[Any]) -> None:
    (line,) = _invoke_with(Tags=attribute).records

    assert line["new_image"]["Tags"] == logged


# --- creation time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seconds",
    [
        1480642020000,  # milliseconds, as in one fixture of another project: the year 48889
        1689508624123,
        253_402_300_800,  # 10000-01-01T00:00:00Z
        -1,
        -0.5,
        1e300,
    ],
)
def test_a_creation_time_no_stream_can_send_is_refused(seconds: float) -> None:
    event = load_event("tutorial_modify")
    event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] = seconds

    reason = _refused(invoke(event))

    assert reason == (
        "ApproximateCreationDateTime is out of range: seconds since 1970 expected, before the year 10000"
        " (milliseconds?)"
    )


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
        (1.635734407123e9, "2021-11-01T02:40:07.123000Z"),  # as one fixture of another project writes it
    ],
)
def test_creation_times_at_the_ends_of_the_range_are_logged(seconds: float, expected: str) -> None:
    event = load_event("tutorial_modify")
    event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] = seconds

    (line,) = invoke(event).records

    assert line["approximate_creation_time"] == expected


def test_a_refused_record_is_reported_by_its_sequence_number_and_named_in_no_value() -> None:
    event = load_event("tutorial_modify")
    record = event["Records"][0]
    record["dynamodb"]["NewImage"]["Secret"] = {"SS": ["hunter2", "hunter2"]}
    original = copy.deepcopy(record)

    result = invoke(event)

    assert _refused(result) == "NewImage: Secret: SS value repeats a member"
    assert result.response["batchItemFailures"] == [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]
    assert "hunter2" not in result.output
    assert record == original  # the record Lambda parks is the one it sent
    assert all(isinstance(json.loads(line), dict) for line in result.output.splitlines())


def test_render_refuses_the_same_sets_directly() -> None:
    with pytest.raises(dynamo_json.InvalidValue, match="BS value repeats a member"):
        # two spellings of the same bytes (the padding bits differ): one member in DynamoDB
        dynamo_json.render({"BS": ["QQ==", "QR=="]})
