"""A hard ceiling on a line: no line over 256,000 bytes, and nothing lost on the way."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import oversized
from stacks.table_stream_logger._core.failure_destinations import OVERSIZED_PREFIX

from .conftest import FAKE_AWS, Invocation, configured, invoke, load_event

LIMIT = oversized.MAX_LINE_BYTES
BUCKET = "inventory-failures"
MODES = ["NEW_AND_CHANGES", "NEW_AND_OLD", "NEW", "CHANGES"]


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[Any]:
    """moto's S3 with the failure bucket, started once for the module's tests."""
    with pytest.MonkeyPatch.context() as environment:
        for name, value in FAKE_AWS.items():
            environment.setenv(name, value)
        with mock_aws():
            client = boto3.client("s3")
            client.create_bucket(Bucket=BUCKET)
            yield client


@pytest.fixture(autouse=True)
def s3(moto_s3: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The failure bucket, emptied, and the handler's FAILURE_BUCKET pointing at it."""
    # Emptied: a test finds only what its own invocation copied.
    for page in moto_s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            moto_s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    monkeypatch.setattr(oversized, "FAILURE_BUCKET", BUCKET)
    monkeypatch.setattr(oversized, "_s3_client", None)
    return moto_s3


def _record(event_name: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
    record: dict[str, Any] = copy.deepcopy(load_event("tutorial_modify")["Records"][0])
    record["eventName"] = event_name
    stream = record["dynamodb"]
    stream.pop("NewImage"), stream.pop("OldImage")
    keys = {"PK": {"S": "FRUIT"}, "SK": {"S": "APPLE#WASHINGTON"}}
    if new is not None:
        stream["NewImage"] = {**keys, **new}
    if old is not None:
        stream["OldImage"] = {**keys, **old}
    return record


def _images(event_name: str, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    if event_name == "INSERT":
        return _record("INSERT", new, None)
    if event_name == "REMOVE":
        return _record("REMOVE", None, old)
    return _record("MODIFY", new, old)


def _lines(result: Invocation) -> list[str]:
    return [line for line in result.output.splitlines() if line]


def _assert_fits(result: Invocation) -> None:
    for text in _lines(result):
        assert len(text.encode()) <= LIMIT


BIG_TEXT = "x" * 395_000
EURO_TEXT = "€" * 130_000  # 390,000 bytes of UTF-8 in 130,000 characters
BIG_BINARY = base64.b64encode(bytes(range(256)) * 1_170).decode()  # 299,520 bytes as 399,360 of base64
THOUSAND_MAPS: dict[str, Any] = {
    "L": [{"M": {"Sku": {"S": f"SKU#{i:06d}" * 35}, "Qty": {"N": str(i)}}} for i in range(1000)]
}
ITEMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "text": ({"Blob": {"S": BIG_TEXT}, "Stocks": {"N": "32"}}, {"Blob": {"S": BIG_TEXT[:-1]}, "Stocks": {"N": "33"}}),
    "multi-byte": ({"Notes": {"S": EURO_TEXT}, "Stocks": {"N": "1"}}, {"Notes": {"S": "€" + EURO_TEXT[1:-1]}}),
    "binary": ({"Data": {"B": BIG_BINARY}}, {"Data": {"B": BIG_BINARY}, "Stocks": {"N": "2"}}),
    "list of a thousand maps": ({"Lines": THOUSAND_MAPS}, {"Lines": THOUSAND_MAPS, "Stocks": {"N": "3"}}),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("event_name", ["INSERT", "MODIFY", "REMOVE"])
@pytest.mark.parametrize("item", list(ITEMS))
def test_no_line_exceeds_the_limit_and_the_whole_record_is_copied(
    s3: Any, mode: str, event_name: str, item: str
) -> None:
    # GIVEN an item of about 400 KB
    new, old = ITEMS[item]
    record = _images(event_name, new, old)

    # WHEN
    with configured(log_images=mode):
        result = invoke({"Records": [record]})

    # THEN every line fits, the record's line says it was shortened and where the whole record is
    _assert_fits(result)
    assert result.response == {"batchItemFailures": []}
    (line,) = result.records
    if mode == "CHANGES" and event_name == "MODIFY" and new == {k: v for k, v in old.items() if k != "Stocks"}:
        assert "shortened" not in line  # the big value did not change: only Stocks is logged
        return
    shortened = line["shortened"]
    assert shortened["bytes"] > LIMIT and shortened["limit"] == LIMIT
    assert shortened["omitted"]
    assert line["message"].endswith("(shortened)")
    assert line["keys"] == {"PK": "FRUIT", "SK": "APPLE#WASHINGTON"}
    assert line["sequence_number"] == "686242300000000012474772171"
    key = shortened["full_record"].removeprefix(f"s3://{BUCKET}/")
    assert key == "oversized/Cloud9/2023-07-16/686242300000000012474772171.json"
    copied = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert copied == record  # as the stream delivered it


def test_the_old_image_goes_first_and_the_changes_keep_the_old_values() -> None:
    # GIVEN a MODIFY whose two images are too big together, each fitting alone
    new = {"Blob": {"S": "y" * 200_000}, "Stocks": {"N": "32"}}
    old = {"Blob": {"S": "y" * 200_000}, "Stocks": {"N": "33"}}

    with configured(log_images="NEW_AND_OLD"):
        (line,) = invoke({"Records": [_record("MODIFY", new, old)]}).records

    assert line["shortened"]["omitted"] == ["old_image"]
    assert "old_image" not in line
    assert line["new_image"]["Blob"] == "y" * 200_000
    assert line["changes"] == {"Stocks": {"old": 33, "new": 32}}
    assert line["changed"] == ["Stocks"]


def test_a_left_out_value_is_a_marker_with_its_type_size_and_hash() -> None:
    (line,) = invoke({"Records": [_record("INSERT", {"Blob": {"S": BIG_TEXT}, "Stocks": {"N": "7"}}, None)]}).records

    value_json = json.dumps(BIG_TEXT).encode()
    assert line["new_image"]["Blob"] == {
        "omitted": {"type": "S", "bytes": len(value_json), "sha256": hashlib.sha256(value_json).hexdigest()}
    }
    assert line["new_image"]["Stocks"] == 7  # what fits stays
    assert line["shortened"]["omitted"] == ["new_image.Blob"]


def test_the_largest_values_go_first_until_the_line_fits() -> None:
    new = {"A": {"S": "a" * 150_000}, "B": {"S": "b" * 140_000}, "C": {"S": "c" * 120_000}}

    (line,) = invoke({"Records": [_record("INSERT", new, None)]}).records

    assert line["shortened"]["omitted"] == ["new_image.A", "new_image.B"]
    assert line["new_image"]["C"] == "c" * 120_000


def test_a_great_many_small_attributes_give_way_as_a_whole_section() -> None:
    # 40,000 attributes of 10 bytes: no marker is shorter than a value, so the image itself goes
    new = {f"A{i:05d}": {"S": "v" * 10} for i in range(40_000)}

    result = invoke({"Records": [_record("INSERT", new, None)]})

    _assert_fits(result)
    (line,) = result.records
    assert line["shortened"]["omitted"] == ["new_image"]
    assert "new_image" not in line
    assert line["keys"] == {"PK": "FRUIT", "SK": "APPLE#WASHINGTON"}


def test_thousands_of_changed_attributes_still_fit() -> None:
    new = {f"Attribute{i:05d}": {"N": str(i)} for i in range(12_000)}
    old = {f"Attribute{i:05d}": {"N": str(i + 1)} for i in range(12_000)}

    for mode in MODES:
        with configured(log_images=mode):
            result = invoke({"Records": [_record("MODIFY", new, old)]})
        _assert_fits(result)
        (line,) = result.records
        assert "shortened" in line, mode
        assert line["message"] == "MODIFY FRUIT / APPLE#WASHINGTON (shortened)", mode  # names the item only


def test_the_shortened_line_is_deterministic() -> None:
    record = _images("MODIFY", *ITEMS["list of a thousand maps"])

    first, second = (invoke({"Records": [record]}).records[0] for _ in range(2))

    first.pop("timestamp"), second.pop("timestamp")
    assert first == second


def test_redacted_values_never_reach_the_line_of_an_oversized_record(s3: Any) -> None:
    secret = "s3cr3t-" * 60_000
    new = {"Secret": {"S": secret}, "Card": {"M": {"number": {"S": secret}, "brand": {"S": "visa"}}}}
    new["Blob"] = {"S": BIG_TEXT}

    with configured(redact=["Secret", "Card.number"]):
        result = invoke({"Records": [_record("INSERT", new, None)]})

    assert "s3cr3t" not in result.output
    (line,) = result.records
    assert line["new_image"]["Secret"] == "[REDACTED]"
    assert line["new_image"]["Card"] == {"number": "[REDACTED]", "brand": "visa"}
    # the copy in the bucket, like a parked batch, holds the record as it was, unredacted
    key = line["shortened"]["full_record"].removeprefix(f"s3://{BUCKET}/")
    assert secret in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


def test_a_failed_copy_reports_the_record_and_logs_no_shortened_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a bucket that does not exist (or refuses the write)
    monkeypatch.setattr(oversized, "FAILURE_BUCKET", "no-such-bucket")
    good = _record("INSERT", {"Stocks": {"N": "1"}}, None)
    good["dynamodb"]["SequenceNumber"] = "100"
    big = _record("INSERT", {"Blob": {"S": BIG_TEXT}}, None)
    big["dynamodb"]["SequenceNumber"] = "200"
    after = copy.deepcopy(good)
    after["dynamodb"]["SequenceNumber"] = "300"

    result = invoke({"Records": [good, big, after]})

    # THEN the oversized record is a batch item failure, retried and parked whole by Lambda
    assert result.response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    assert [line["sequence_number"] for line in result.records] == ["100"]
    (error,) = result.level("ERROR")
    assert "could not be written to s3://no-such-bucket/oversized/" in error["reason"]
    assert "xxxx" not in result.output


def test_without_an_s3_destination_the_line_says_the_record_is_only_in_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(oversized, "FAILURE_BUCKET", "")

    (line,) = invoke({"Records": [_record("INSERT", {"Blob": {"S": BIG_TEXT}}, None)]}).records

    assert line["shortened"]["full_record"] is None
    assert "only in the table" in line["shortened"]["note"]


def test_a_line_just_under_the_limit_is_left_whole() -> None:
    record = _record("INSERT", {"Blob": {"S": ""}}, None)
    (line_text,) = [text for text in _lines(invoke({"Records": [record]})) if '"event_name"' in text]
    room = LIMIT - len(line_text.encode())
    record = _record("INSERT", {"Blob": {"S": "z" * (room - 30)}}, None)  # the timestamp's length is fixed

    (line,) = invoke({"Records": [record]}).records

    assert "shortened" not in line
    assert line["new_image"]["Blob"] == "z" * (room - 30)


def test_the_handler_copies_an_oversized_record_under_the_prefix_its_role_may_write() -> None:
    record = {"dynamodb": {"SequenceNumber": "686242300000000012474772171", "ApproximateCreationDateTime": 0}}

    key, _ = oversized._whole_copy(record, "Inventory")

    assert oversized.OVERSIZED_PREFIX == OVERSIZED_PREFIX
    assert key == f"{OVERSIZED_PREFIX}/Inventory/1970-01-01/686242300000000012474772171.json"
