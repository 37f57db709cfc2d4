"""Property tests: exact round trips, redaction, and no exception ever escapes."""

from __future__ import annotations

import base64
import copy
import json
from decimal import Decimal, DecimalException
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import configured, invoke

SERIALIZER = TypeSerializer()
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Inventory/stream/2026-01-01T00:00:00.000"


def _dynamodb_number(coefficient: int, exponent: int) -> Decimal:
    # Exact, all 38 digits: Decimal.scaleb would round to the context's 28.
    return Decimal(f"{coefficient}E{exponent}") if coefficient else Decimal(0)


def _in_range(value: Decimal) -> bool:
    """Within DynamoDB's range, and written exactly by boto3's serializer.

    boto3 has fewer than 38 digits for the numbers nearest 1E-130 (its context's Emin is -128);
    tests/e2e/test_dynamodb_local.py shows what DynamoDB itself stores there.
    """
    if value != 0 and not -130 <= value.adjusted() <= 125:
        return False
    try:
        DYNAMODB_CONTEXT.create_decimal(value)
    except DecimalException:
        return False
    return True


numbers = st.builds(
    lambda sign, coefficient, exponent: _dynamodb_number(sign * coefficient, exponent),
    st.sampled_from([1, -1]),
    st.integers(min_value=0, max_value=10**38 - 1),
    st.integers(min_value=-170, max_value=125),
).filter(_in_range) | st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1).map(Decimal)
texts = st.text(max_size=20)
binaries = st.binary(max_size=24)
scalars = st.one_of(texts, numbers, binaries, st.booleans(), st.none())
sets = st.one_of(
    st.frozensets(texts, min_size=1, max_size=5).map(set),
    st.frozensets(numbers, min_size=1, max_size=5).map(set),
    st.frozensets(binaries, min_size=1, max_size=5).map(set),
)
values = st.recursive(
    st.one_of(scalars, sets),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(texts, children, max_size=4),
    ),
    max_leaves=12,
)
items = st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda n: n not in ("PK", "SK")), values, max_size=8)


def _wire(attribute: Any) -> Any:
    """boto3 gives bytes for B/BS; the stream delivers them base64 encoded."""
    if isinstance(attribute, dict):
        return {tag: _wire(value) for tag, value in attribute.items()}
    if isinstance(attribute, list):
        return [_wire(value) for value in attribute]
    if isinstance(attribute, (bytes, bytearray, Binary)):
        return base64.b64encode(bytes(attribute)).decode()
    return attribute


def _expected(value: Any) -> Any:
    """What the log line should hold: sets become sorted arrays, bytes base64 strings."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, set):
        members = [_expected(member) for member in value]
        return sorted(members, key=Decimal) if all(isinstance(m, Decimal) for m in members) else sorted(members)
    if isinstance(value, dict):
        return {name: _expected(child) for name, child in value.items()}
    if isinstance(value, list):
        return [_expected(child) for child in value]
    return value


def _record(event_name: str, sequence: int, new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
    keys = {"PK": "ITEM", "SK": str(sequence)}
    stream: dict[str, Any] = {"Keys": _wire(SERIALIZER.serialize(keys)["M"]), "SequenceNumber": str(sequence)}
    if new is not None:
        stream["NewImage"] = _wire(SERIALIZER.serialize({**keys, **new})["M"])
    if old is not None:
        stream["OldImage"] = _wire(SERIALIZER.serialize({**keys, **old})["M"])
    return {"eventID": f"e{sequence}", "eventName": event_name, "dynamodb": stream, "eventSourceARN": ARN}


@settings(max_examples=150, deadline=None)
@given(new=items, old=items)
def test_logged_images_equal_the_items_exactly(new: dict[str, Any], old: dict[str, Any]) -> None:
    event = {
        "Records": [_record("INSERT", 1, new, None), _record("MODIFY", 2, new, old), _record("REMOVE", 3, None, old)]
    }

    result = invoke(event)

    assert result.response == {"batchItemFailures": []}
    insert, modify, remove = result.records
    assert insert["new_image"] == _expected({"PK": "ITEM", "SK": "1", **new})
    assert modify["new_image"] == _expected({"PK": "ITEM", "SK": "2", **new})
    # the default line carries no old image: it is rebuilt exactly from the changes
    assert "old_image" not in modify
    assert old_image_of(modify) == _expected({"PK": "ITEM", "SK": "2", **old})
    assert remove["old_image"] == _expected({"PK": "ITEM", "SK": "3", **old})
    assert modify["changed"] == sorted(
        name
        for name in new.keys() | old.keys()
        if _expected(new.get(name, KeyError)) != _expected(old.get(name, KeyError))
    )


def old_image_of(line: dict[str, Any]) -> dict[str, Any]:
    """The old image of a MODIFY line, as the README says to rebuild it: the new image with
    each changed attribute's old value, or without it where the change added it."""
    old = dict(line["new_image"])
    for name, sides in line["changes"].items():
        if "old" in sides:
            old[name] = sides["old"]
        else:
            del old[name]
    return old


@settings(max_examples=50, deadline=None)
@given(new=items, old=items)
def test_both_images_mode_logs_the_old_image_as_it_was(new: dict[str, Any], old: dict[str, Any]) -> None:
    with configured(log_images="NEW_AND_OLD"):
        (modify,) = invoke({"Records": [_record("MODIFY", 2, new, old)]}).records

    assert modify["old_image"] == _expected({"PK": "ITEM", "SK": "2", **old})
    assert modify["new_image"] == _expected({"PK": "ITEM", "SK": "2", **new})
    assert "changes" not in modify


SECRET = "s3cr3t-"


@settings(max_examples=100, deadline=None)
@given(
    new=items,
    old=items,
    secret=st.text(min_size=4, max_size=12).map(lambda text: SECRET + text),
    mode=st.sampled_from(["NEW_AND_CHANGES", "NEW_AND_OLD", "NEW", "CHANGES"]),
    in_list=st.booleans(),
)
def test_redacted_values_never_appear(
    new: dict[str, Any], old: dict[str, Any], secret: str, mode: str, in_list: bool
) -> None:
    card = {"number": secret + "-card", "brand": "visa"}
    new_secret = {**new, "email": secret, "card": [card] if in_list else card}
    old_secret = {**old, "email": secret + "-old", "card": {"number": {"nested": [secret]}}}
    event = {
        "Records": [
            _record("INSERT", 1, new_secret, None),
            _record("MODIFY", 2, new_secret, old_secret),
            _record("REMOVE", 3, None, old_secret),
        ]
    }

    with configured(log_images=mode, redact=["email", "card.number"]):
        result = invoke(event)

    assert SECRET not in result.output
    assert json.dumps(SECRET)[1:-1] not in result.output
    assert len(result.records) == 3
    assert "email" in result.records[1]["changed"]


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
tags = st.sampled_from(["S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS", "X"])
attributes = st.recursive(
    st.dictionaries(tags, json_values, min_size=1, max_size=2),
    lambda children: st.one_of(
        st.fixed_dictionaries({"M": st.dictionaries(st.text(max_size=5), children, max_size=3)}),
        st.fixed_dictionaries({"L": st.lists(children, max_size=3)}),
    ),
    max_leaves=8,
)


@st.composite
def hostile_records(draw: st.DrawFn) -> Any:
    record = copy.deepcopy(
        _record("MODIFY", draw(st.integers(0, 10**6)), {"Stocks": Decimal(32)}, {"Stocks": Decimal(33)})
    )
    stream = record["dynamodb"]
    for part in draw(st.sets(st.sampled_from(["NewImage", "OldImage", "Keys"]))):
        stream[part] = draw(st.one_of(json_values, st.dictionaries(st.text(max_size=5), attributes, max_size=4)))
    if draw(st.booleans()):
        record["eventName"] = draw(st.one_of(json_values, st.sampled_from(["INSERT", "MODIFY", "REMOVE"])))
    if draw(st.booleans()):
        stream["ApproximateCreationDateTime"] = draw(json_values)
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    return record


@settings(max_examples=300, deadline=None)
@given(
    records=st.lists(hostile_records(), max_size=6),
    mode=st.sampled_from(["NEW_AND_CHANGES", "NEW_AND_OLD", "NEW", "CHANGES"]),
)
def test_no_exception_escapes_and_every_record_is_accounted_for(records: list[Any], mode: str) -> None:
    with configured(log_images=mode):
        result = invoke({"Records": records})

    # Fail fast: the records before the first bad one are logged, that one is reported, and the
    # rest is left for Lambda to redeliver from it.
    failures = result.response["batchItemFailures"]
    assert len(failures) <= 1
    assert len(result.level("ERROR")) == len(failures)
    if failures:
        assert len(result.records) < len(records)
    else:
        assert len(result.records) == len(records)


def _identities(tag: str, members: list[Any]) -> list[Any]:
    """How DynamoDB tells set members apart: strings as written, numbers by value, binaries by bytes."""
    if tag == "NS":
        return [Decimal(str(member)) for member in members]
    if tag == "BS":
        return [base64.b64decode(member) for member in members]
    return members


@settings(max_examples=100, deadline=None)
@given(
    members=st.one_of(
        st.lists(texts, min_size=1, max_size=5).map(lambda m: {"SS": m}),
        st.lists(numbers, min_size=1, max_size=5).map(lambda m: {"NS": [str(n) for n in m]}),
        st.lists(binaries, min_size=1, max_size=5).map(lambda m: {"BS": [base64.b64encode(b).decode() for b in m]}),
    ),
    data=st.data(),
)
def test_a_set_is_logged_exactly_when_dynamodb_could_store_it(members: dict[str, list[str]], data: Any) -> None:
    # GIVEN a set as a stream would carry it, maybe with a member repeated (as DynamoDB cannot store)
    ((tag, listed),) = members.items()
    if data.draw(st.booleans()):
        listed.insert(data.draw(st.integers(0, len(listed))), data.draw(st.sampled_from(listed)))
    record = _record("INSERT", 1, {}, None)
    record["dynamodb"]["NewImage"]["Set"] = {tag: listed}

    result = invoke({"Records": [record]})

    # THEN it is logged, all of it, when its members are distinct as DynamoDB compares them, else refused
    if len(set(_identities(tag, listed))) == len(listed):
        (line,) = result.records
        logged = line["new_image"]["Set"]
        assert len(logged) == len(listed)
        assert set(_identities(tag, logged)) == set(_identities(tag, listed))
    else:
        assert result.records == []
        (error,) = result.level("ERROR")
        assert error["reason"] == f"NewImage: Set: {tag} value repeats a member"
        assert result.response == {"batchItemFailures": [{"itemIdentifier": "1"}]}
