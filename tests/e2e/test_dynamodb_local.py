"""AWS's DynamoDB Local where moto differs, and DynamoDB's own rules against the handler's."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import dynamo_json
from tests.e2e import dynamodb_local
from tests.e2e.conftest import Result
from tests.needs import skip_or_fail

APPLE = {"PK": "FRUIT", "SK": "APPLE#WASHINGTON"}
KIWI = {"PK": "FRUIT", "SK": "KIWI#NZ"}


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        # moto 5.2.5: a MODIFY for each write that changes nothing; a creating UpdateItem emits
        # an INSERT with only the key, then one with the item (README: "moto differs from AWS")
        (
            "moto",
            [
                ("INSERT", APPLE, 39),
                ("MODIFY", APPLE, 39),
                ("MODIFY", APPLE, 39),
                ("INSERT", KIWI, None),
                ("INSERT", KIWI, 12),
            ],
        ),
        # AWS: no record for a write that changes nothing, one INSERT for a creating UpdateItem
        ("dynamodb-local", [("INSERT", APPLE, 39), ("INSERT", KIWI, 12)]),
    ],
)
def test_writes_that_change_nothing_and_updates_that_create(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, expected: list[tuple[str, dict[str, str], int]]
) -> None:
    # GIVEN a put, the same put again, an update to the same value, and an update of a new item
    run = request.getfixturevalue("run_local" if backend == "moto" else "run_on_dynamodb_local")
    items = tmp_path / "items.jsonl"
    operations = [
        {"op": "put", "item": {**APPLE, "Stocks": 39}},
        {"op": "put", "item": {**APPLE, "Stocks": 39}},
        {"op": "update", "key": APPLE, "set": {"Stocks": 39}},
        {"op": "update", "key": KIWI, "set": {"Stocks": 12}},
    ]
    items.write_text("\n".join(json.dumps(operation) for operation in operations))

    # WHEN they are played and the stream is read
    result: Result = run("--items", str(items))

    # THEN the log lines are the stream's records, one each
    assert result.code == 0, result.stderr
    logged = [(line["event_name"], line["keys"], line["new_image"].get("Stocks")) for line in result.records]
    assert logged == expected
    assert f"{len(expected)} record(s) read: {len(expected)} delivered" in result.stderr


def test_numbers_at_dynamodbs_limits_are_logged_as_its_stream_sends_them(
    run_on_dynamodb_local: Any, tmp_path: Path
) -> None:
    # GIVEN numbers at both ends of DynamoDB's range, which it stores written out in full
    numbers = {
        "Largest": "9.9999999999999999999999999999999999999E+125",
        "OneAnd125Zeros": "1E+125",
        "Smallest": "1E-130",
        "NegativeSmallest": "-1E-130",
        "ThirtyEightDigits": "12345678901234567890123456789012345678",
        "Zeros": "0.000",
        "NegativeZero": "-0.0",
    }
    items = tmp_path / "items.jsonl"
    # (the items file is JSON: the literals are read as Decimal, as written)
    fields = ", ".join(f'"{name}": {literal}' for name, literal in numbers.items())
    items.write_text(f'{{"op": "put", "item": {{"PK": "N", "SK": "1", {fields}}}}}')

    # WHEN the item's INSERT reaches the handler
    result: Result = run_on_dynamodb_local("--items", str(items))

    # THEN every number is the same value, a JSON number, as DynamoDB sent it (in full)
    assert result.code == 0, result.stderr
    (line,) = result.records
    assert {name: line["new_image"][name] for name in numbers} == {
        name: Decimal(literal) for name, literal in numbers.items()
    }
    assert re.search(r'"OneAnd125Zeros":10{125}[,}]', result.stdout)
    assert re.search(r'"Smallest":0\.0{129}1[,}]', result.stdout)


# --- what DynamoDB refuses, the handler refuses -------------------------------------------

NUMBERS = [
    "1" + "0" * 125,
    "9.9999999999999999999999999999999999999E+125",
    "1E-130",
    "1.5E-130",
    # 38 digits at the bottom of the range: DynamoDB holds them (boto3's serializer does not)
    "1.000000000000000000000000000000000001E-130",
    "1.0000000000000000000000000000000000001E-130",
    "-0",
    "0.000",
    "00.10",
    "1E+0125",
    "1" * 39,
    "1" + "0" * 37 + "1",
    "1" + "0" * 126,
    "1E+126",
    "10E+125",
    "1E-131",
    "0.5E-130",
]


@pytest.fixture(scope="module")
def scratch_table(dynamodb_local_endpoint: str) -> Iterator[tuple[Any, str]]:
    """A table on DynamoDB Local for single writes, with a low-level client."""
    client = dynamodb_local.client(dynamodb_local_endpoint)
    name = f"rules-{uuid.uuid4().hex[:12]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client, name
    client.delete_table(TableName=name)


def _stored(scratch_table: tuple[Any, str], attribute: dict[str, Any]) -> dict[str, Any] | None:
    """The attribute as DynamoDB stores it (and its stream sends it), or None if it refuses it."""
    client, name = scratch_table
    key = {"PK": {"S": uuid.uuid4().hex}}
    try:
        client.put_item(TableName=name, Item={**key, "Value": attribute})
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ValidationException"
        return None
    stored: dict[str, Any] = client.get_item(TableName=name, Key=key)["Item"]["Value"]
    return stored


def _logged(attribute: dict[str, Any]) -> str | None:
    """The handler's JSON text for the attribute, or None if it refuses it."""
    try:
        return dynamo_json.render(attribute)
    except dynamo_json.InvalidValue:
        return None


@pytest.mark.parametrize("literal", NUMBERS)
def test_the_handler_refuses_a_number_exactly_when_dynamodb_does(scratch_table: tuple[Any, str], literal: str) -> None:
    stored = _stored(scratch_table, {"N": literal})

    logged = _logged({"N": literal})

    if stored is None:
        assert logged is None
    else:
        assert logged is not None and Decimal(logged) == Decimal(literal) == Decimal(stored["N"])
        # and the form its stream sends (written out in full) is logged as sent
        assert _logged(stored) == stored["N"]


def _wire(attribute: dict[str, Any]) -> dict[str, Any]:
    """The attribute as a stream record carries it: binaries base64 encoded."""
    ((tag, members),) = attribute.items()
    if tag == "BS":
        return {tag: [base64.b64encode(member).decode() for member in members]}
    return attribute


@pytest.mark.parametrize(
    "attribute",
    [
        {"SS": []},
        {"NS": []},
        {"BS": []},
        {"SS": ["red", "red"]},
        {"SS": ["red", "Red"]},
        {"NS": ["1", "1.0"]},
        {"NS": ["1E+2", "100"]},
        {"NS": ["1", "2"]},
        {"BS": [b"\x00\x01", b"\x00\x01"]},
        {"BS": [b"\x00\x01", b"\x00\x02"]},
    ],
)
def test_the_handler_refuses_a_set_exactly_when_dynamodb_does(
    scratch_table: tuple[Any, str], attribute: dict[str, Any]
) -> None:
    stored = _stored(scratch_table, attribute)

    logged = _logged(_wire(attribute))

    assert (logged is None) == (stored is None)


# --- without Java -------------------------------------------------------------------------


def test_without_java_the_tests_are_skipped_with_what_to_install_but_fail_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN a machine without Java
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(dynamodb_local.Unavailable) as missing:
        dynamodb_local.java()
    assert "needs Java 17 or newer: install a Java runtime" in str(missing.value)

    # THEN a developer's run skips the tests with that line, a fork's CI (CI=true) too, and the
    # project's own CI (.ci/run, TSL_REQUIRE_ALL=1) fails
    monkeypatch.delenv("TSL_REQUIRE_ALL", raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.skip.Exception, match="needs Java 17"):
        skip_or_fail(str(missing.value))
    monkeypatch.setenv("TSL_REQUIRE_ALL", "1")
    with pytest.raises(pytest.fail.Exception, match="TSL_REQUIRE_ALL=1: DynamoDB Local needs Java 17"):
        skip_or_fail(str(missing.value))


def test_without_the_jar_the_message_says_make_deps(tmp_path: Path) -> None:
    with pytest.raises(dynamodb_local.Unavailable, match=r"run `make deps`"):
        dynamodb_local.jar(tmp_path)
