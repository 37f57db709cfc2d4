"""The tutorials' story, end to end: moto's stream, the emulated mapping, the real handler."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb

from stacks.table_stream_logger import ChangeFilter, NewTable, TableStreamLogger
from tests.conftest import CDK_CONTEXT
from tests.e2e.conftest import Result

APPLE_KEYS = {"PK": "FRUIT", "SK": "APPLE#WASHINGTON"}
MANGO_KEYS = {"PK": "FRUIT", "SK": "MANGO#ALPHONSO"}


def apple(stocks: int, usd: str = "0.8") -> dict[str, Any]:
    return {**APPLE_KEYS, "Stocks": stocks, "Price": {"USD": Decimal(usd), "INR": 50}}


def test_the_story_shows_every_change_of_the_inventory(run_on_each: Any) -> None:
    # WHEN the story runs: APPLE 39 -> 33 -> 32, its price, ORANGE, a batch write, the chair, the mango
    result: Result = run_on_each()

    # THEN every change is one log line of the real handler
    assert result.code == 0, result.stderr
    assert [line["event_name"] for line in result.records] == [
        "INSERT",
        "INSERT",
        "MODIFY",
        "MODIFY",
        "MODIFY",
        "REMOVE",
        "INSERT",
        "INSERT",
        "INSERT",
        "INSERT",
        "MODIFY",
        "INSERT",
        "REMOVE",
    ]
    inserted, stock_33, stock_32, priced = result.record_lines("APPLE#WASHINGTON")
    assert inserted["keys"] == APPLE_KEYS
    assert inserted["new_image"] == apple(39)
    assert "old_image" not in inserted
    assert stock_33["changes"] == {"Stocks": {"old": 39, "new": 33}}
    assert stock_33["new_image"] == apple(33)
    assert stock_33["changed"] == ["Stocks"]
    assert stock_32["changes"] == {"Stocks": {"old": 33, "new": 32}}
    assert stock_32["new_image"] == apple(32)
    assert stock_32["changed"] == ["Stocks"]
    assert priced["new_image"] == apple(32, usd="0.85")
    assert priced["changed"] == ["Price"]
    # 0.8 is a JSON number, exactly as written, never "0.8" nor 0.8000000000000000444
    assert '"Price":{"USD":0.8,"INR":50}' in result.stdout
    assert '"USD":"0.8"' not in result.stdout

    deleted, expired = [line for line in result.records if line["event_name"] == "REMOVE"]
    assert deleted["keys"] == {"PK": "FRUIT", "SK": "ORANGE#FLORIDA"}
    assert deleted["old_image"]["Stocks"] == 120
    assert "new_image" not in deleted
    assert "ttl_expired" not in deleted  # a delete by the shop

    # The mango's listing ended: DynamoDB's TTL removed it (simulated on moto, DynamoDB Local's own job there).
    listed, _ = result.record_lines("MANGO#ALPHONSO")
    assert expired["keys"] == MANGO_KEYS
    assert expired["message"] == "REMOVE FRUIT / MANGO#ALPHONSO (expired by TTL)"
    assert expired["ttl_expired"] is True
    assert expired["old_image"] == listed["new_image"]
    assert expired["old_image"]["ExpiresAt"] <= Decimal(time.time())
    assert int(expired["sequence_number"]) > int(listed["sequence_number"])
    assert "user_identity" not in expired
    assert [line for line in result.records if "ttl_expired" in line] == [expired]

    # one invocation: the thirteen records fall within the one-second batching window
    (metrics,) = [line for line in result.lines if "_aws" in line]
    counts = [metrics[name] for name in ("InsertRecords", "ModifyRecords", "RemoveRecords", "FailedRecords")]
    assert counts == [[7], [4], [2], [0]]
    (invocation,) = [line for line in result.lines if "record_count" in line]
    # Lambda's runtime gives the memory as text ("256"); the line says it as the number it is.
    assert invocation["function_memory_size"] == 256
    assert invocation["record_count"] == 13
    assert {line["request_id"] for line in result.records} == {invocation["request_id"]}
    assert "13 record(s) read: 13 delivered, 0 filtered, 0 parked, 0 pending; 1 invocation(s)" in result.stderr
    assert "# nothing lost" in result.stderr


def test_the_event_carries_the_stream_of_the_local_table(run_local: Any) -> None:
    result: Result = run_local()

    (invocation,) = [line for line in result.lines if "record_count" in line]
    # Lambda's runtime gives the memory as text ("256"); the line says it as the number it is.
    assert invocation["function_memory_size"] == 256
    assert invocation["table"] == "InventoryStack-InventoryLoggerTableB5D61A0C"
    assert invocation["function_name"].startswith("InventoryStack-InventoryLoggerFunction")
    assert invocation["service"] == "inventory"
    # logged as the changes happen: each line's timestamp places its change, no time of its own
    assert all("approximate_creation_time" not in line and line["timestamp"].endswith("Z") for line in result.records)


def test_pretty_output_reads_like_the_tutorial(run_local: Any) -> None:
    result: Result = run_local("--format", "pretty")

    *lines, mango, expired, back, listing_expired, published_back, published_expired = result.stdout.splitlines()
    assert lines == [
        'INSERT FRUIT/APPLE#WASHINGTON Stocks=39 Price={"USD":0.8,"INR":50}',
        'INSERT FRUIT/ORANGE#FLORIDA Stocks=120 Price={"USD":0.5,"INR":35}',
        "MODIFY FRUIT/APPLE#WASHINGTON Stocks 39 → 33",
        "MODIFY FRUIT/APPLE#WASHINGTON Stocks 33 → 32",
        'MODIFY FRUIT/APPLE#WASHINGTON Price {"USD":0.8,"INR":50} → {"USD":0.85,"INR":50}',
        "REMOVE FRUIT/ORANGE#FLORIDA",
        'INSERT FRUIT/BANANA#ECUADOR Stocks=150 Price={"USD":0.25,"INR":12}',
        'INSERT VEGETABLE/CARROT#OHIO Stocks=80 Price={"USD":0.1,"INR":8}',
        'INSERT VEGETABLE/POTATO#IDAHO Stocks=200 Price={"USD":0.3,"INR":20}',
        'INSERT FURNITURE/CHAIR#ERGONOMIC Stocks=0 Price={"USD":129.99,"INR":10999}',
        "MODIFY FURNITURE/CHAIR#ERGONOMIC Stocks 0 → 5",
    ]
    # The mango is listed until ExpiresAt, the time of the run, and then expires.
    assert re.fullmatch(r'INSERT FRUIT/MANGO#ALPHONSO Stocks=40 Price=\{"USD":1.5,"INR":120\} ExpiresAt=\d+', mango)
    assert expired == "REMOVE FRUIT/MANGO#ALPHONSO (expired by TTL)"
    # The alerts read the same stream: the chair is back, the mango's listing expired; nothing for APPLE's 33 → 32.
    assert back == "SNS (local stand-in) | Back in stock: FURNITURE / CHAIR#ERGONOMIC | Stocks 0 → 5"
    assert listing_expired == "SNS (local stand-in) | Listing expired: FRUIT / MANGO#ALPHONSO | expired (TTL)"
    # The alerts function's own log lines.
    assert published_back.startswith("INFO Published: Back in stock: FURNITURE / CHAIR#ERGONOMIC (sequence number ")
    assert published_expired.startswith("INFO Published: Listing expired: FRUIT / MANGO#ALPHONSO (sequence number ")
    # The expiry is labelled as what it is: moto has no TTL process.
    (write,) = [line for line in result.stderr.splitlines() if line.startswith("# write: expire ")]
    assert write == (
        "# write: expire FRUIT/MANGO#ALPHONSO (simulated TTL expiry: moto does not expire items, so the run "
        "removed it as DynamoDB's TTL does, a REMOVE by dynamodb.amazonaws.com)"
    )


def test_the_alerts_fire_for_the_restocked_chair_and_the_expired_mango_only(run_on_each: Any) -> None:
    result: Result = run_on_each()

    notification, expiry = [line["local_sns_stand_in"] for line in result.lines if "local_sns_stand_in" in line]
    # A topic in moto's SNS, which the alerts' own process published to.
    topic = notification["TopicArn"]
    assert re.fullmatch(r"arn:aws:sns:us-east-1:\d{12}:InventoryStack-InventoryAlertsTopic\w+", topic)
    assert notification["Subject"] == "Back in stock: FURNITURE / CHAIR#ERGONOMIC"
    assert notification["MessageAttributes"]["rule"] == {"DataType": "String", "StringValue": "back-in-stock"}
    message = notification["Message"]
    assert (message["summary"], message["old"], message["new"]) == ("Stocks 0 → 5", 0, 5)
    assert message["keys"] == {"PK": "FURNITURE", "SK": "CHAIR#ERGONOMIC"}
    assert "new_image" not in message  # the app's alerts leave the image out (include_image=False)
    # The local table's name (the stack's on moto, the test's own on DynamoDB Local), as the logger has it.
    (invocation,) = [line for line in result.lines if "record_count" in line]
    # Lambda's runtime gives the memory as text ("256"); the line says it as the number it is.
    assert invocation["function_memory_size"] == 256
    assert message["table"] == notification["MessageAttributes"]["table"]["StringValue"] == invocation["table"]
    # The alerts' own mapping filtered out what cannot be a restock before invoking the function.
    # The listing-expired alert: the TTL's REMOVE of the mango, not the delete of ORANGE.
    assert expiry["Subject"] == "Listing expired: FRUIT / MANGO#ALPHONSO"
    assert {name: value["StringValue"] for name, value in expiry["MessageAttributes"].items()} == {
        "rule": "listing-expired",
        "event_name": "REMOVE",
        "table": invocation["table"],
    }
    assert expiry["Message"]["summary"] == "expired (TTL)"
    assert expiry["Message"]["keys"] == MANGO_KEYS
    assert "old_image" not in expiry["Message"]
    (expired,) = [line for line in result.records if line.get("ttl_expired")]
    assert expiry["Message"]["sequence_number"] == expired["sequence_number"]
    # The alerts' own mapping filtered out what cannot be a restock or an expiry before invoking the function.
    assert "InventoryAlertsFunction9EEF9359: 13 record(s) read: 5 delivered, 8 filtered, 0 parked" in result.stderr
    assert "2 notification(s) to the SNS stand-in" in result.stderr


@pytest.fixture(scope="session")
def filtered_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A logger given only the changes of items that have a stock, and the vegetables' inserts."""
    outdir = tmp_path_factory.mktemp("cdk.out-filtered")
    app = cdk.App(context=CDK_CONTEXT, outdir=str(outdir))
    stack = cdk.Stack(app, "FilteredStack")
    TableStreamLogger(
        stack,
        "Logger",
        filters=[
            ChangeFilter(event_names=["MODIFY"], new_image_has={"Stocks": "N"}),
            ChangeFilter(event_names=["INSERT"], keys_equal={"PK": "VEGETABLE"}),
        ],
        new_table=NewTable(
            partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
        ),
    )
    app.synth()  # the template beside its assets, as `cdk synth` writes them
    return outdir / "FilteredStack.template.json"


def test_filters_deliver_only_the_matching_changes(run_on_each: Any, filtered_template_path: Path) -> None:
    # WHEN the story runs under the mapping's filter criteria
    result: Result = run_on_each("--template", str(filtered_template_path))

    # THEN the function sees the apple's three changes, the two vegetables and the chair's restock,
    # nothing else
    assert result.code == 0, result.stderr
    assert [(line["event_name"], line["keys"]["SK"]) for line in result.records] == [
        ("MODIFY", "APPLE#WASHINGTON"),
        ("MODIFY", "APPLE#WASHINGTON"),
        ("MODIFY", "APPLE#WASHINGTON"),
        ("INSERT", "CARROT#OHIO"),
        ("INSERT", "POTATO#IDAHO"),
        ("MODIFY", "CHAIR#ERGONOMIC"),
    ]
    assert "11 record(s) read: 6 delivered, 5 filtered, 0 parked, 0 pending" in result.stderr
    assert "# nothing lost" in result.stderr


def test_interactive_writes_show_up_and_end_of_input_ends_the_run(run_local: Any) -> None:
    typed = (
        'put FRUIT KIWI#NZ Stocks=3 Price={"USD":1.2}\nbogus\n\nupdate FRUIT KIWI#NZ Stocks=2\ndelete FRUIT KIWI#NZ\n'
    )

    result: Result = run_local("--interactive", stdin=typed)

    assert result.code == 0, result.stderr
    assert [(line["event_name"], line["keys"]["SK"]) for line in result.records] == [
        ("INSERT", "KIWI#NZ"),
        ("MODIFY", "KIWI#NZ"),
        ("REMOVE", "KIWI#NZ"),
    ]
    assert result.records[0]["new_image"]["Price"] == {"USD": Decimal("1.2")}
    assert "? expected put|update|delete PK SK" in result.stderr
    assert "3 record(s) read: 3 delivered" in result.stderr


def test_a_template_problem_is_a_usage_error(run_local: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.template.json"
    bad.write_text('{"Resources": {}}')

    result: Result = run_local("--template", str(bad))

    assert result.code == 2
    assert "error: the template has no AWS::Lambda::EventSourceMapping" in result.stderr
