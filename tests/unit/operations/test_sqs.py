"""An SQS failure destination: metadata only, the records read back from the stream (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from stacks.table_stream_logger.operations.stores import SqsStore
from tests.unit.operations.conftest import FUNCTION, Function, Inventory, Result

QUEUE = ("--function-name", FUNCTION)


@pytest.fixture(autouse=True)
def short_polls() -> Iterator[None]:
    """moto waits out a long poll on an empty queue; a short poll sees all of its messages."""
    saved = SqsStore.WAIT_SECONDS
    SqsStore.WAIT_SECONDS = 0
    yield
    SqsStore.WAIT_SECONDS = saved


def messages(inventory: Inventory) -> list[str]:
    attributes = inventory.sqs.get_queue_attributes(
        QueueUrl=inventory.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return [attributes["ApproximateNumberOfMessages"]]


def test_list_works_from_the_message_and_gives_the_messages_back(
    inventory: Inventory, function: Function, run: Any
) -> None:
    message_id = inventory.park_in_queue(inventory.write("A", "B"), function_error="Unhandled")
    function.configuration()

    result: Result = run("list", "--queue-url", inventory.queue_url, *QUEUE, "--format", "json")

    assert result.code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["key"], row["records"], row["event_names"], row["function_error"]) == (message_id, 2, None, "Unhandled")
    assert messages(inventory) == ["1"]  # visible again for the next reader


def test_show_reads_the_records_from_the_stream(inventory: Inventory, function: Function, run: Any) -> None:
    records = inventory.write("A", "B")
    message_id = inventory.park_in_queue(records)
    function.configuration()

    result: Result = run("show", message_id, "--queue-url", inventory.queue_url, *QUEUE, "--format", "json")

    assert result.code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert [(r["event_id"], r["keys"]) for r in shown["records"]] == [
        (record["eventID"], {"PK": "FRUIT", "SK": "[REDACTED]"}) for record in records
    ]
    assert shown["note"] is None
    assert messages(inventory) == ["1"]


def test_replay_reads_the_records_from_the_stream_and_deletes_the_message(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN a batch parked in the queue while the stream still holds its records
    inventory.write("BEFORE")
    records = inventory.write("A", "B")
    inventory.write("AFTER")
    message_id = inventory.park_in_queue(records)
    function.configuration()
    # THEN the function gets the records as the mapping delivered them, and only those
    function.answers(json.dumps({"Records": records}), {"batchItemFailures": []})

    result: Result = run("replay", message_id, "--yes", "--queue-url", inventory.queue_url, *QUEUE)

    assert result.code == 0, result.stderr
    assert f"{message_id}: replayed 2 record(s) through {FUNCTION}; moved to deleted from the queue" in result.stdout
    assert messages(inventory) == ["0"]


def test_a_batch_that_still_fails_keeps_its_message(inventory: Inventory, function: Function, run: Any) -> None:
    (record,) = inventory.write("POISON#1")
    message_id = inventory.park_in_queue([record])
    function.configuration()
    failed = record["dynamodb"]["SequenceNumber"]
    function.answers(json.dumps({"Records": [record]}), {"batchItemFailures": [{"itemIdentifier": failed}]})

    result: Result = run("replay", "--all", "--yes", "--queue-url", inventory.queue_url, *QUEUE)

    assert result.code == 1
    assert f"{message_id}: still fails, stays parked: records reported as failed" in result.stdout
    # SK is redacted by the function's REDACT_ATTRIBUTES; neither the log tail nor the log group has a reason
    assert f"  {failed} INSERT PK=FRUIT SK=[REDACTED]: the reason is not in the function's log" in result.stdout
    assert messages(inventory) == ["1"]


@pytest.mark.parametrize(
    ("first_arrival", "sequence_number"),
    [
        ("2026-01-01T00:00:00Z", None),  # parked long ago: the stream keeps a record 24 hours
        (None, 1000),  # the stream does not hold the batch's first record (trimmed)
    ],
)
def test_an_expired_batch_says_so_and_points_to_point_in_time_recovery(
    inventory: Inventory, function: Function, run: Any, first_arrival: str | None, sequence_number: int | None
) -> None:
    records = inventory.write("A")
    document_records = records
    if sequence_number:
        moved = str(int(records[0]["dynamodb"]["SequenceNumber"]) + sequence_number)
        document_records = [{**records[0], "dynamodb": {**records[0]["dynamodb"], "SequenceNumber": moved}}]
    message_id = inventory.park_in_queue(document_records, first_arrival=first_arrival)
    function.configuration()  # and no invocation

    result: Result = run("replay", "--all", "--yes", "--queue-url", inventory.queue_url, *QUEUE)

    assert result.code == 1
    assert result.stdout.startswith(
        f"{message_id}: cannot be replayed: the records of {message_id} are no longer in the stream, which keeps "
        "them 24 hours"
    )
    assert "point-in-time recovery" in result.stdout
    assert messages(inventory) == ["1"]
