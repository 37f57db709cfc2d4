"""The event source mapping's rules, on a fake stream and a fake clock (no moto, no sleeping)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.filtering import compile_patterns
from local.poller import StopRun, lambda_record
from tests.unit.local.conftest import STREAM_ARN, T0, Setup, failing, raising, settings


def test_records_reach_the_handler_in_the_shape_lambda_sends(setup: Setup) -> None:
    # GIVEN a record as boto3 returns it: a datetime with milliseconds, and bytes
    raw = {
        "eventID": "e1",
        "eventName": "INSERT",
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 11, 23, 10, 0, 5, 750000, tzinfo=UTC),
            "Keys": {"PK": {"S": "FRUIT"}, "SK": {"B": b"\x00\xff"}},
            "NewImage": {"PK": {"S": "FRUIT"}, "SK": {"B": b"\x00\xff"}, "Tags": {"BS": [b"a", b"bc"]}},
            "SequenceNumber": "101",
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }

    # WHEN it is turned into what Lambda delivers
    record = lambda_record(raw, STREAM_ARN, "us-east-1")

    # THEN epoch seconds (rounded down), base64 text, and Lambda's own keys, in Lambda's order
    assert list(record) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    assert record["eventVersion"] == "1.1"
    assert record["eventSourceARN"] == STREAM_ARN
    stream = record["dynamodb"]
    assert stream["ApproximateCreationDateTime"] == int(datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC).timestamp())
    assert stream["Keys"]["SK"] == {"B": base64.b64encode(b"\x00\xff").decode()}
    assert stream["NewImage"]["Tags"] == {"BS": ["YQ==", "YmM="]}
    json.dumps(record)  # nothing left that JSON cannot carry


def test_a_ttl_deletion_carries_the_identity_as_lambda_names_it() -> None:
    # GIVEN a REMOVE by DynamoDB's TTL process as boto3 returns it (the Streams API's shape)
    raw = {
        "eventID": "e2",
        "eventName": "REMOVE",
        "dynamodb": {"Keys": {"PK": {"S": "FRUIT"}}, "SequenceNumber": "102"},
        "userIdentity": {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"},
    }

    record = lambda_record(raw, STREAM_ARN, "us-east-1")

    # THEN Lambda's event names it as the handlers and the TTL event filter expect
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert list(record)[-1] == "userIdentity"


def test_the_handler_gets_an_event_and_a_context(setup: Setup) -> None:
    setup.stream.write("APPLE")
    poller = setup.poller(settings())

    poller.drain()

    (event,) = setup.function.events
    assert list(event) == ["Records"]
    assert event["Records"][0]["eventSourceARN"] == STREAM_ARN
    (context,) = setup.function.contexts
    assert context.function_name == "inventory-logger"
    assert context.memory_limit_in_mb == "256"  # text, as Lambda's runtime gives it
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:inventory-logger"
    assert context.aws_request_id
    assert context.get_remaining_time_in_millis() == 30_000
    setup.clock.now += 10
    assert context.get_remaining_time_in_millis() == 20_000


def test_a_full_batch_goes_at_once_and_the_rest_waits_for_the_window(setup: Setup) -> None:
    for sk in "ABCDE":
        setup.stream.write(sk)
    poller = setup.poller(settings(batch_size=2, maximum_batching_window=10))
    poller.start()

    read, waiting = poller.poll()

    assert read == 5
    assert setup.function.batches == [["A", "B"], ["C", "D"]]
    assert waiting == pytest.approx(T0 + 10)  # the window starts when the last invocation ended

    poller.drain()

    assert setup.function.batches == [["A", "B"], ["C", "D"], ["E"]]
    assert setup.clock.sleeps == [pytest.approx(10)]
    assert poller.stats.delivered == 5
    assert poller.lost() == 0


def test_records_are_gathered_for_the_batching_window(setup: Setup) -> None:
    poller = setup.poller(settings(batch_size=100, maximum_batching_window=1))
    poller.start()

    setup.stream.write("APPLE")
    setup.clock.now += 0.4
    poller.poll()
    setup.stream.write("ORANGE")
    setup.clock.now += 0.4
    poller.poll()
    assert setup.function.batches == []  # 0.8 s: still inside the window

    setup.clock.now += 0.2
    poller.poll()

    assert setup.function.batches == [["APPLE", "ORANGE"]]


def test_without_a_window_each_poll_invokes_at_once(setup: Setup) -> None:
    poller = setup.poller(settings())
    poller.start()

    setup.stream.write("APPLE")
    poller.poll()
    setup.stream.write("ORANGE")
    poller.poll()

    assert setup.function.batches == [["APPLE"], ["ORANGE"]]


@pytest.mark.parametrize(("position", "expected"), [("TRIM_HORIZON", ["OLD", "NEW"]), ("LATEST", ["NEW"])])
def test_starting_position(setup: Setup, position: str, expected: list[str]) -> None:
    setup.stream.write("OLD")
    poller = setup.poller(settings(starting_position=position))
    poller.start()  # creating the mapping
    setup.stream.write("NEW")

    poller.drain()

    assert [sk for batch in setup.function.batches for sk in batch] == expected


def test_a_partial_failure_checkpoints_at_the_lowest_failed_record(setup: Setup) -> None:
    # GIVEN a function that fails C and B once (in that order in its response)
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "103"}, {"itemIdentifier": "102"}]}])
    setup.function.respond = lambda records: next(answers, None)
    for sk in "ABCD":
        setup.stream.write(sk)  # sequence numbers 101..104
    done: list[list[str]] = []
    poller = setup.poller(settings(report_batch_item_failures=True), on_delivered=done.append)

    poller.drain()

    # THEN A is done; the retry reads again from B, the lowest failed sequence number
    assert setup.function.batches == [["A", "B", "C", "D"], ["B", "C", "D"]]
    assert poller.stats.retries == 1
    assert poller.stats.delivered == 4
    assert done == [["101"], ["102", "103", "104"]]
    assert poller.lost() == 0


def test_a_retry_without_bisect_reads_on_from_the_checkpoint(setup: Setup) -> None:
    answers = iter([failing("B")])
    setup.function.respond = lambda records: next(answers, lambda records: None)(records)
    for sk in "ABCDE":
        setup.stream.write(sk)
    poller = setup.poller(settings(batch_size=3, report_batch_item_failures=True))

    poller.drain()

    # the retry from B takes up to BatchSize records again, as re-reading the shard would
    assert setup.function.batches == [["A", "B", "C"], ["B", "C", "D"], ["E"]]


def test_with_bisect_a_partial_failure_retries_only_the_remaining_records(setup: Setup) -> None:
    answers = iter([failing("C")])
    setup.function.respond = lambda records: next(answers, lambda records: None)(records)
    for sk in "ABCDE":
        setup.stream.write(sk)
    poller = setup.poller(settings(batch_size=4, report_batch_item_failures=True, bisect_batch_on_function_error=True))

    poller.drain()

    # split at C: C and D again, not E; splitting does not consume a retry
    assert setup.function.batches == [["A", "B", "C", "D"], ["C", "D"], ["E"]]
    assert poller.stats.retries == 0
    assert poller.stats.bisections == 1


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"ItemIdentifier": "101"}]},  # a bad key name
        {"batchItemFailures": [{"itemIdentifier": "999"}]},  # not in the batch
        {"batchItemFailures": "101"},
        "not an object",
    ],
)
def test_an_invalid_item_identifier_fails_the_whole_batch(setup: Setup, response: Any) -> None:
    answers = iter([response])
    setup.function.respond = lambda records: next(answers, None)
    setup.stream.write("A")
    setup.stream.write("B")
    poller = setup.poller(settings(report_batch_item_failures=True))

    poller.drain()

    assert setup.function.batches == [["A", "B"], ["A", "B"]]
    assert poller.stats.failed_invocations == 1


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_an_empty_response_is_a_complete_success(setup: Setup, response: Any) -> None:
    setup.function.respond = lambda records: response
    setup.stream.write("A")
    poller = setup.poller(settings(report_batch_item_failures=True))

    poller.drain()

    assert setup.function.batches == [["A"]]
    assert poller.stats.delivered == 1


def test_batch_item_failures_count_only_when_the_mapping_reports_them(setup: Setup) -> None:
    setup.function.respond = failing("A")
    setup.stream.write("A")
    poller = setup.poller(settings(report_batch_item_failures=False))

    poller.drain()

    assert setup.function.batches == [["A"]]
    assert poller.stats.delivered == 1


def test_bisect_isolates_a_poison_record_and_parks_it_alone(setup: Setup, tmp_path: Path) -> None:
    # GIVEN a handler that raises whenever its batch holds C, two retries, bisecting on
    setup.function.respond = raising("C")
    for sk in "ABCD":
        setup.stream.write(sk)
    poller = setup.poller(
        settings(bisect_batch_on_function_error=True, maximum_retry_attempts=2), failure_folder=tmp_path
    )

    poller.drain()

    # THEN halves until C is alone, which then gets its retries; A, B and D are delivered
    assert setup.function.batches == [["A", "B", "C", "D"], ["A", "B"], ["C", "D"], ["C"], ["C"], ["C"], ["D"]]
    assert poller.stats.bisections == 2
    assert poller.stats.retries == 2
    assert (poller.stats.delivered, poller.stats.parked) == (3, 1)
    (path,) = poller.stats.parked_files
    document = json.loads(path.read_text())
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == 5  # [ABCD], [CD], [C] x 3
    assert document["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert [record["dynamodb"]["Keys"]["SK"]["S"] for record in json.loads(document["payload"])["Records"]] == ["C"]
    assert poller.lost() == 0


def test_a_partial_failure_at_the_first_record_is_bisected_like_a_failed_batch(setup: Setup) -> None:
    setup.function.respond = failing("B")
    for sk in "ABCD":
        setup.stream.write(sk)
    poller = setup.poller(
        settings(report_batch_item_failures=True, bisect_batch_on_function_error=True, maximum_retry_attempts=1)
    )

    poller.drain()

    # A done; split at B: [B C D]; no progress, so halves [B C] [D]; [B C] -> [B] [C]; B alone
    assert setup.function.batches == [["A", "B", "C", "D"], ["B", "C", "D"], ["B", "C"], ["B"], ["B"], ["C"], ["D"]]
    assert (poller.stats.delivered, poller.stats.parked) == (3, 1)


def test_without_bisect_the_whole_batch_is_retried_then_parked(setup: Setup, tmp_path: Path) -> None:
    setup.function.respond = raising("B")
    setup.stream.write("A")
    setup.stream.write("B")
    poller = setup.poller(settings(maximum_retry_attempts=2), failure_folder=tmp_path)

    poller.drain()

    assert setup.function.batches == [["A", "B"]] * 3  # the first try and two retries
    assert (poller.stats.delivered, poller.stats.parked, poller.stats.retries) == (0, 2, 2)
    assert any("retry 2 of 2" in line for line in setup.progress)


def test_no_retries_parks_after_the_first_failure(setup: Setup, tmp_path: Path) -> None:
    setup.function.respond = raising("A")
    setup.stream.write("A")
    poller = setup.poller(settings(maximum_retry_attempts=0), failure_folder=tmp_path)

    poller.drain()

    assert setup.function.batches == [["A"]]
    assert poller.stats.parked == 1


def test_infinite_retries_end_when_the_record_is_too_old(setup: Setup, tmp_path: Path) -> None:
    # GIVEN a function that always fails and takes 10 s, and records at most 25 s old
    def slow_failure(records: list[dict[str, Any]]) -> Any:
        setup.clock.now += 10
        raise RuntimeError("down")

    setup.function.respond = slow_failure
    setup.stream.write("A")
    poller = setup.poller(settings(maximum_retry_attempts=-1, maximum_record_age=25), failure_folder=tmp_path)

    poller.drain()

    # THEN tries at 0, 10 and 20 s; at 30 s the record is too old and is parked
    assert setup.function.batches == [["A"]] * 3
    (path,) = poller.stats.parked_files
    document = json.loads(path.read_text())
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"
    assert document["requestContext"]["approximateInvokeCount"] == 3


def test_records_too_old_are_parked_without_an_invocation(setup: Setup, tmp_path: Path) -> None:
    setup.stream.write("OLD", created=T0 - 100)
    setup.stream.write("NEW", created=T0 - 10)
    poller = setup.poller(settings(maximum_record_age=60), failure_folder=tmp_path)

    poller.drain()

    assert setup.function.batches == [["NEW"]]
    (path,) = poller.stats.parked_files
    document = json.loads(path.read_text())
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"
    assert document["requestContext"]["approximateInvokeCount"] == 0
    assert document["responseContext"] == {}


def test_filter_criteria_drop_records_before_batching(setup: Setup) -> None:
    setup.stream.write("APPLE", "INSERT")
    setup.stream.write("APPLE", "MODIFY")
    setup.stream.write("ORANGE", "INSERT")
    only_apple_inserts = compile_patterns(
        ['{"eventName": ["INSERT"], "dynamodb": {"Keys": {"SK": {"S": [{"prefix": "APPLE"}]}}}}']
    )
    poller = setup.poller(settings(), filter_record=only_apple_inserts)

    poller.drain()

    assert setup.function.batches == [["APPLE"]]
    assert (poller.stats.seen, poller.stats.filtered, poller.stats.delivered) == (3, 2, 1)
    assert poller.lost() == 0


def test_the_failure_document_has_the_shape_of_lambdas_s3_record(setup: Setup, tmp_path: Path) -> None:
    setup.function.respond = raising("A")
    setup.stream.write("A", created=T0 - 5)
    setup.stream.write("B", created=T0 - 3)
    setup.clock.now += 0.25
    poller = setup.poller(settings(maximum_retry_attempts=0), failure_folder=tmp_path)

    poller.drain()

    (path,) = poller.stats.parked_files
    # aws/lambda/<mapping>/<shard>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>, as the S3 object key
    relative = path.relative_to(tmp_path)
    assert relative.parts[:4] == ("aws", "lambda", "Mapping", "shard-1")
    assert relative.parts[4:7] == ("2027", "01", "15")
    assert relative.name.startswith("2027-01-15T08.00.00-") and relative.suffix == ".json"
    document = json.loads(path.read_text())
    assert list(document) == [
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "DDBStreamBatchInfo",
        "payload",
    ]
    assert set(document["requestContext"]) == {"requestId", "functionArn", "condition", "approximateInvokeCount"}
    assert document["requestContext"]["requestId"] == setup.function.contexts[0].aws_request_id
    assert document["requestContext"]["functionArn"].endswith(":function:inventory-logger")
    assert document["version"] == "1.0"
    assert document["timestamp"] == "2027-01-15T08:00:00.250Z"
    assert document["DDBStreamBatchInfo"] == {
        "shardId": "shard-1",
        "startSequenceNumber": "101",
        "endSequenceNumber": "102",
        "approximateArrivalOfFirstRecord": "2027-01-15T07:59:55Z",
        "approximateArrivalOfLastRecord": "2027-01-15T07:59:57Z",
        "batchSize": 2,
        "streamArn": STREAM_ARN,
    }
    # the payload is the whole invocation event, as JSON text
    assert json.loads(document["payload"]) == setup.function.events[0]


def test_a_handler_slower_than_the_timeout_fails_its_batch(setup: Setup) -> None:
    calls = iter([40, 1])  # seconds each invocation takes; the timeout is 30

    def timed(records: list[dict[str, Any]]) -> Any:
        setup.clock.now += next(calls)
        return None

    setup.function.respond = timed
    setup.stream.write("A")
    poller = setup.poller(settings())

    poller.drain()

    assert setup.function.batches == [["A"], ["A"]]
    assert any("timed out" in line for line in setup.progress)


def test_a_child_shard_is_read_after_its_parent(setup: Setup) -> None:
    setup.stream.shard_list["shard-1"].closed = True
    setup.stream.add_shard("shard-2", parent="shard-1")
    setup.stream.write("CHILD", shard_id="shard-2")
    setup.stream.write("PARENT", shard_id="shard-1")
    poller = setup.poller(settings())

    poller.drain()

    assert setup.function.batches == [["PARENT"], ["CHILD"]]


def test_run_polls_until_told_to_stop(setup: Setup) -> None:
    poller = setup.poller(settings())
    setup.stream.write("A")

    poller.run(lambda: setup.clock() >= T0 + 1)

    assert setup.function.batches == [["A"]]
    assert setup.clock.sleeps == [0.25, 0.25, 0.25, 0.25]  # Lambda's four polls a second


def test_every_record_is_accounted_for_while_work_is_pending(setup: Setup) -> None:
    poller = setup.poller(settings(batch_size=10, maximum_batching_window=5))
    setup.stream.write("A")
    setup.stream.write("B")

    poller.poll()

    assert poller.pending() == 2
    assert poller.lost() == 0


def test_an_interrupted_invocation_leaves_its_records_pending(setup: Setup) -> None:
    def interrupted(records: list[dict[str, Any]]) -> Any:
        raise KeyboardInterrupt

    setup.function.respond = interrupted
    setup.stream.write("A")
    poller = setup.poller(settings())

    with pytest.raises(KeyboardInterrupt):
        poller.drain()

    assert poller.pending() == 1
    assert poller.lost() == 0


def test_a_stopped_run_is_not_a_function_error_and_parks_nothing(setup: Setup) -> None:
    def output_closed(records: list[dict[str, Any]]) -> Any:
        raise StopRun("the output was closed")

    setup.function.respond = output_closed
    setup.stream.write("A")
    poller = setup.poller(settings())

    with pytest.raises(StopRun):
        poller.drain()

    assert (poller.pending(), poller.stats.failed_invocations, poller.stats.retries, poller.stats.parked) == (
        1,
        0,
        0,
        0,
    )
    assert poller.lost() == 0
