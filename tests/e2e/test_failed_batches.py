"""Batches that fail, end to end: a poison record retried, bisected and parked, and a timeout,
through the emulated mapping and the real handler under awslambdaric. Nothing is lost and
nothing is logged twice."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result, assembly_with

POISON_ITEMS = [
    {"op": "put", "item": {"PK": "FRUIT", "SK": "APPLE#WASHINGTON", "Stocks": 39}},
    {"op": "put", "item": {"PK": "FRUIT", "SK": "POISON#1", "Stocks": 1}},
    {"op": "put", "item": {"PK": "FRUIT", "SK": "ORANGE#FLORIDA", "Stocks": 120}},
    {"op": "put", "item": {"PK": "FRUIT", "SK": "KIWI#NZ", "Stocks": 12}},
]


# Appended to each handler of a copy of the assembly: the record of FRUIT/POISON#1 fails in it.
POISON = """
import copy as _copy

_unpoisoned = handler


def handler(event, context):
    event = _copy.deepcopy(event)
    for record in event["Records"]:
        if record["dynamodb"]["Keys"]["SK"]["S"] == "POISON#1":
            if {raised}:
                raise RuntimeError("the poison record")
            del record["dynamodb"]["Keys"]
    return _unpoisoned(event, context)
"""


def poisoned(template_path: Path, folder: Path, how: str) -> Path:
    """A cloud assembly in which the record of FRUIT/POISON#1 fails in every handler, every time.

    ``reported``: the handler receives the record without its Keys, logs it at ERROR and
    reports it in batchItemFailures. ``raised``: the function raises. Either way the
    poller's own copy of the record stays whole. Returns its template.
    """
    code = POISON.format(raised=how == "raised")
    return assembly_with(template_path, folder, {"stream_logger.py": code, "change_alerts.py": code})


@pytest.mark.parametrize(
    ("how", "invocations", "invoked", "function_error"),
    [
        # [A P O K] fails at P: A done, split at P -> [P O K] fails at its first record ->
        # halves [P O] [K] -> [P O] halves -> [P] 1 + 10 retries -> parked; [O] ok; [K] ok
        ("reported", 16, 14, None),
        # [A P O K] raises -> halves [A P] [O K] -> [A P] halves -> [A] ok; [P] 1 + 10 retries
        # -> parked; [O K] ok
        ("raised", 15, 13, "Unhandled"),
    ],
)
def test_a_poison_record_is_retried_bisected_and_parked_and_nothing_is_lost(
    run_on_each: Any,
    template_path: Path,
    tmp_path: Path,
    how: str,
    invocations: int,
    invoked: int,
    function_error: str | None,
) -> None:
    # GIVEN four items, one of which the function can never process
    template = poisoned(template_path, tmp_path / "cdk.out", how)
    items = tmp_path / "items.jsonl"
    items.write_text("\n".join(json.dumps(operation) for operation in POISON_ITEMS))

    # WHEN they are written and the stream is processed with the template's settings
    result: Result = run_on_each("--items", str(items), "--template", str(template))

    # THEN the poison record went through bisecting and every retry the template allows
    assert result.code == 0, result.stderr
    assert "bisecting the batch of 4 into 2 + 2" in result.stderr or "split at" in result.stderr
    assert "retry 10 of 10: 1 record(s)" in result.stderr
    assert (
        f"4 record(s) read: 3 delivered, 0 filtered, 1 parked, 0 pending; {invocations} invocation(s)" in result.stderr
    )
    assert "# nothing lost" in result.stderr

    # AND every other record is logged exactly once over all the retries (the handler stops at
    # the poison record, so the ones after it are not logged again on each redelivery)
    logged = Counter(line["keys"]["SK"] for line in result.records)
    assert logged == {"APPLE#WASHINGTON": 1, "ORANGE#FLORIDA": 1, "KIWI#NZ": 1}

    # AND the poison record is in the failure folder, whole, as Lambda would write it to S3
    (path,) = (tmp_path / "failures").rglob("*.json")
    document = json.loads(path.read_text())
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == invoked
    assert document["responseContext"].get("functionError") == function_error
    (record,) = json.loads(document["payload"])["Records"]
    assert record["dynamodb"]["Keys"] == {"PK": {"S": "FRUIT"}, "SK": {"S": "POISON#1"}}
    assert record["dynamodb"]["NewImage"]["Stocks"] == {"N": "1"}
    assert record["eventSourceARN"] == document["DDBStreamBatchInfo"]["streamArn"]
    info = document["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == record["dynamodb"]["SequenceNumber"]
    assert f"parked: {path}" in result.stderr


# Appended to the logger's handler of a copy of the assembly: a batch with FRUIT/SLOW#1 outlasts any timeout.
SLOW = """
import time as _time

_fast = handler


def handler(event, context):
    if any(record["dynamodb"]["Keys"]["SK"]["S"] == "SLOW#1" for record in event["Records"]):
        _time.sleep(600)
    return _fast(event, context)
"""


def test_a_timeout_is_a_failed_batch_retried_and_parked_and_nothing_is_logged_twice(
    run_local: Any, template_path: Path, tmp_path: Path
) -> None:
    # GIVEN the logger with a 2 s timeout (each of the 4 timeouts is waited out), one retry
    # and a record that makes it outlast it
    path = assembly_with(template_path, tmp_path / "cdk.out", {"stream_logger.py": SLOW})
    template = json.loads(path.read_text())
    for resource in template["Resources"].values():
        if resource["Properties"].get("Handler") == "stream_logger.handler":
            resource["Properties"]["Timeout"] = 2
        if resource["Type"] == "AWS::Lambda::EventSourceMapping" and "Logger" in json.dumps(
            resource["Properties"]["FunctionName"]
        ):
            resource["Properties"]["MaximumRetryAttempts"] = 1
    path.write_text(json.dumps(template))
    items = tmp_path / "items.jsonl"
    slow = [dict(operation) for operation in POISON_ITEMS]
    slow[1] = {"op": "put", "item": {"PK": "FRUIT", "SK": "SLOW#1", "Stocks": 1}}
    items.write_text("\n".join(json.dumps(operation) for operation in slow))

    # WHEN they are written and the stream is processed
    result: Result = run_local("--items", str(items), "--template", str(path))

    # THEN each invocation with the slow record was stopped at its deadline, as Lambda stops it
    assert result.code == 0, result.stderr
    assert result.stderr.count("function error: Sandbox.Timedout: ") == 4
    assert "Task timed out after 2.00 seconds" in result.stderr
    # AND the batch was bisected down to the slow record, which used its retry and was parked
    assert "4 record(s) read: 3 delivered, 0 filtered, 1 parked, 0 pending; 6 invocation(s)" in result.stderr
    (parked,) = (tmp_path / "failures").rglob("*.json")
    document = json.loads(parked.read_text())
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["responseContext"]["functionError"] == "Unhandled"
    (record,) = json.loads(document["payload"])["Records"]
    assert record["dynamodb"]["Keys"]["SK"] == {"S": "SLOW#1"}
    # AND every other record is logged exactly once
    assert Counter(line["keys"]["SK"] for line in result.records) == {
        "APPLE#WASHINGTON": 1,
        "ORANGE#FLORIDA": 1,
        "KIWI#NZ": 1,
    }
