"""Stream records written by other projects, checked against boto3's own unmarshalling.

The fixtures stay where they are, in ../shared/fixtures/public-stream-events/ beside the
repository (SOURCES.md there says where each comes from); this module never copies them.
Each record is invoked on its own, so that no check depends on what the handler does with
the records of a batch after a failed one.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer

from tests.needs import skip_or_fail

from .conftest import configured, invoke

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "public-stream-events"
DESERIALIZER = TypeDeserializer()

# The records DynamoDB cannot have written, by fixture and index, and the handler's reason
# (SOURCES.md's "covers" column names each oddity).
REFUSED = {
    ("aws__aws-lambda-go__dynamodb-event.json", 1): "NewImage: asdf2: BS value repeats a member",
    ("aws__aws-lambda-go__dynamodb-event.pr110-null-tags.json", 0): "Keys: val: not a DynamoDB attribute value",
    ("aws__aws-lambda-go__dynamodb-event.pr110-null-tags.json", 1): "Keys: val: not a DynamoDB attribute value",
    ("aws__aws-lambda-dotnet__dynamodb-event.json", 1): "OldImage: asdf2: BS value repeats a member",
    ("aws__aws-lambda-dotnet__dynamodb-with-ms-event.json", 0): "ApproximateCreationDateTime is out of range",
    ("aws__aws-lambda-dotnet__dynamodb-with-ms-event.json", 1): "OldImage: asdf2: BS value repeats a member",
}


def _fixture_names() -> list[Any]:
    names = sorted(path.name for path in FIXTURES.glob("*.json"))
    return names or [pytest.param("", id="no-fixtures")]


def _records(name: str) -> tuple[dict[str, Any], list[Any]]:
    if not name:
        skip_or_fail(
            f"the public stream fixtures are not there: {FIXTURES.resolve()} (../shared beside the repository)"
        )
    event: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return event, event["Records"]


# --- an independent view of what DynamoDB could have written --------------------------------


def _violations(record: dict[str, Any]) -> list[str]:
    """DynamoDB's rules that the record breaks, found without the handler's code."""
    found: list[str] = []

    def visit(attribute: Any, where: str) -> None:
        if not isinstance(attribute, dict) or len(attribute) != 1:
            found.append(f"{where}: not one type tag")
            return
        ((tag, value),) = attribute.items()
        if tag in ("SS", "NS", "BS"):
            members = [Decimal(m) for m in value] if tag == "NS" else value
            if tag == "BS":
                members = [base64.b64decode(m) for m in value]
            if not members or len(set(members)) != len(members):
                found.append(f"{where}: set empty or repeating")
        elif tag == "M":
            for name, child in value.items():
                visit(child, f"{where}.{name}")
        elif tag == "L":
            for index, child in enumerate(value):
                visit(child, f"{where}.{index}")

    stream = record["dynamodb"]
    for part in ("Keys", "NewImage", "OldImage"):
        for name, attribute in stream.get(part, {}).items():
            visit(attribute, f"{part}: {name}")
    created = stream.get("ApproximateCreationDateTime")
    if created is not None and not datetime(1970, 1, 1, tzinfo=UTC).timestamp() <= created < 253_402_300_800:
        found.append("ApproximateCreationDateTime: not seconds")
    return found


def _as_unmarshalled(logged: Any, expected: Any) -> Any:
    """The logged JSON value in the types TypeDeserializer gives, to compare them exactly."""
    if isinstance(expected, set):
        assert isinstance(logged, list) and len(logged) == len(expected), "a set is an array of its members"
        like = next(iter(expected))
        return {_as_unmarshalled(member, like) for member in logged}
    if isinstance(expected, Binary):
        return Binary(base64.b64decode(logged, validate=True))
    if isinstance(expected, Decimal):
        assert type(logged) in (int, Decimal), "a number is a JSON number"
        return Decimal(logged)
    if isinstance(expected, dict):
        assert isinstance(logged, dict) and logged.keys() == expected.keys()
        return {name: _as_unmarshalled(logged[name], expected[name]) for name in expected}
    if isinstance(expected, list):
        assert isinstance(logged, list) and len(logged) == len(expected)
        return [_as_unmarshalled(item, like) for item, like in zip(logged, expected, strict=True)]
    return logged


def _from_wire(attribute: dict[str, Any]) -> dict[str, Any]:
    """Binaries as bytes, as boto3's client decodes them from the wire's base64 (Lambda does not)."""
    ((tag, value),) = attribute.items()
    if tag == "B":
        return {tag: base64.b64decode(value)}
    if tag == "BS":
        return {tag: [base64.b64decode(member) for member in value]}
    if tag == "M":
        return {tag: {name: _from_wire(child) for name, child in value.items()}}
    if tag == "L":
        return {tag: [_from_wire(child) for child in value]}
    return attribute


def _unmarshall(image: dict[str, Any]) -> dict[str, Any]:
    return {name: DESERIALIZER.deserialize(_from_wire(attribute)) for name, attribute in image.items()}


@pytest.mark.parametrize("name", _fixture_names())
def test_every_record_of_other_projects_is_logged_exactly_or_refused(name: str) -> None:
    event, records = _records(name)

    for index, record in enumerate(records):
        # WHEN the record is the only one of its event (the envelope is kept: tumbling windows)
        with configured(log_images="NEW_AND_OLD", key_attributes=[]):
            result = invoke({**event, "Records": [record]})  # raises if a line is not JSON

        stream = record["dynamodb"]
        refused = REFUSED.get((name, index))
        assert bool(_violations(record)) == (refused is not None), (index, _violations(record))
        if refused:
            # THEN a record DynamoDB cannot have written is one ERROR line and one failure
            assert result.records == [], index
            (error,) = result.level("ERROR")
            assert error["reason"].startswith(refused), (index, error["reason"])
            assert result.response == {"batchItemFailures": [{"itemIdentifier": stream["SequenceNumber"]}]}
            continue

        # THEN any other is one change line, equal to boto3's unmarshalling of the record
        assert result.response == {"batchItemFailures": []}, (index, result.level("ERROR"))
        (line,) = result.records
        assert line["event_name"] == record["eventName"]
        assert line["sequence_number"] == stream.get("SequenceNumber")
        for part, key in (("Keys", "keys"), ("NewImage", "new_image"), ("OldImage", "old_image")):
            if part in stream:
                expected = _unmarshall(stream[part])
                assert _as_unmarshalled(line[key], expected) == expected, (index, part)
            else:
                assert key not in line, (index, key)
        if "ApproximateCreationDateTime" in stream:
            logged = datetime.fromisoformat(line["approximate_creation_time"])
            assert logged == datetime.fromtimestamp(stream["ApproximateCreationDateTime"], UTC), index
