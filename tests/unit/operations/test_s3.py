"""list / show / replay against an S3 failure destination (moto), the function stubbed."""

from __future__ import annotations

import json
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stacks.table_stream_logger.operations.errors import RedriveError
from stacks.table_stream_logger.operations.failure_records import Batch, Marker
from stacks.table_stream_logger.operations.stores import S3Store
from tests.unit.operations.conftest import FUNCTION, Function, Inventory, Result, error_line

STACK = ("--stack-name", "InventoryStack")


def test_list_shows_one_row_per_parked_batch_and_never_a_value(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN two parked batches and an oversized-record copy under another prefix
    first = inventory.park(inventory.write("APPLE#WASHINGTON", "KIWI#NZ"), "a", function_error="Unhandled")
    second = inventory.park(inventory.write("POISON#1"), "b", condition="RecordAgeExceeded")
    inventory.s3.put_object(Bucket=inventory.bucket, Key="oversized/inventory/2026-12-01/1.json", Body=b"{}")
    function.mappings()
    function.configuration()

    # WHEN they are listed
    result: Result = run("list", *STACK)

    # THEN one row each, in the order they were parked, with metadata and event names only
    assert result.code == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "PARKED",
        "CONDITION",
        "ERROR",
        "FUNCTION",
        "SHARD",
        "FIRST",
        "SEQUENCE",
        "LAST",
        "SEQUENCE",
        "RECORDS",
        "EVENTS",
        "KEY",
    ]
    assert [row.split()[1:4] for row in rows] == [
        ["RetryAttemptsExhausted", "Unhandled", FUNCTION],
        ["RecordAgeExceeded", "-", FUNCTION],
    ]
    assert [row.split()[-1] for row in rows] == [first, second]
    assert rows[0].split()[-3:-1] == ["2", "INSERTx2"]
    for secret in ("APPLE", "KIWI", "POISON", "s3cr3t", "FRUIT"):
        assert secret not in result.stdout
    assert "oversized" not in result.stdout


def test_list_as_json_for_scripts_with_a_time_range(inventory: Inventory, function: Function, run: Any) -> None:
    records = inventory.write("A", "B", "C")
    now = datetime.now(UTC)
    inventory.park(records[:1], "old", parked_at=now - timedelta(hours=5))
    recent = inventory.park(records[1:], "new", parked_at=now - timedelta(minutes=10))
    function.mappings()
    function.configuration()

    result: Result = run("list", *STACK, "--since", "1h", "--format", "json")

    assert result.code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["key"] == recent
    assert row["records"] == 2
    assert row["event_names"] == {"INSERT": 2}
    assert row["first_sequence_number"] == records[1]["dynamodb"]["SequenceNumber"]
    assert row["last_sequence_number"] == records[2]["dynamodb"]["SequenceNumber"]
    assert row["condition"] == "RetryAttemptsExhausted"
    assert row["shard_id"] == inventory.shard_id


def test_list_holds_at_most_two_batches_in_memory_however_many_are_parked(
    inventory: Inventory, function: Function, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN three parked batches, and a watch on each batch the store reads
    for name in ("a", "b", "c"):
        inventory.park(inventory.write(f"ITEM#{name}"), name)
    function.mappings()
    function.configuration()
    read: list[weakref.ref[Batch]] = []
    still_held: list[int] = []
    original = S3Store._read

    def watched(store: S3Store, key: str) -> Batch:
        still_held.append(sum(ref() is not None for ref in read))  # earlier batches, records and all
        batch = original(store, key)
        read.append(weakref.ref(batch))
        return batch

    monkeypatch.setattr(S3Store, "_read", watched)

    # WHEN they are listed
    result: Result = run("list", *STACK, "--format", "json")

    # THEN each was read, summarized and let go: when a batch is read, only the one before it is
    # still held (by the loop that summarized it), where all of them were (0, 1, 2) before
    assert result.code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 3
    assert still_held == [0, 1, 1]


def test_nothing_parked_is_success(inventory: Inventory, function: Function, run: Any) -> None:
    function.mappings()
    function.configuration()

    result: Result = run("list", *STACK)

    assert (result.code, result.stdout) == (0, "nothing parked in s3://inventory-failures\n")


def test_show_gives_identities_redacted_keys_and_the_logged_reason(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN a parked batch whose second record failed, as the function's log says
    good, bad = inventory.write("APPLE#WASHINGTON", "POISON#1")
    key = inventory.park([good, bad])
    inventory.log(error_line(bad, "NewImage: Stocks: N value is not a number"))
    function.mappings()
    function.configuration()  # REDACT_ATTRIBUTES ["SK"]

    result: Result = run("show", key, *STACK, "--format", "json")

    assert result.code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["batch"]["key"] == key
    assert shown["records"] == [
        {
            "event_name": "INSERT",
            "event_id": good["eventID"],
            "sequence_number": good["dynamodb"]["SequenceNumber"],
            "keys": {"PK": "FRUIT", "SK": "[REDACTED]"},
            "reason": None,
        },
        {
            "event_name": "INSERT",
            "event_id": bad["eventID"],
            "sequence_number": bad["dynamodb"]["SequenceNumber"],
            "keys": {"PK": "FRUIT", "SK": "[REDACTED]"},
            "reason": "NewImage: Stocks: N value is not a number",
        },
    ]
    assert "POISON" not in result.stdout and "s3cr3t" not in result.stdout


def test_show_as_text(inventory: Inventory, function: Function, run: Any) -> None:
    (bad,) = inventory.write("POISON#1")
    key = inventory.park([bad], function_error="Unhandled")
    inventory.log(error_line(bad, "Keys is not an object"))
    function.environment = {"REDACT_ATTRIBUTES": "[]"}
    function.mappings()
    function.configuration()

    result: Result = run("show", key, *STACK)

    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["key:", key]
    assert "condition:         RetryAttemptsExhausted (11 invocations)" in lines
    assert "function error:    Unhandled" in lines
    assert lines[-1].split() == [
        "INSERT",
        bad["eventID"],
        bad["dynamodb"]["SequenceNumber"],
        "PK=FRUIT",
        "SK=POISON#1",
        "Keys",
        "is",
        "not",
        "an",
        "object",
    ]


def test_replay_is_a_dry_run_without_yes(inventory: Inventory, function: Function, run: Any) -> None:
    key = inventory.park(inventory.write("A"))
    function.mappings()
    function.configuration()

    result: Result = run("replay", key, *STACK)

    assert result.code == 0, result.stderr
    assert f"dry run: would invoke {FUNCTION} with 1 batch(es), one at a time:" in result.stdout
    assert "run again with --yes to replay them" in result.stdout
    assert inventory.keys() == [key]  # nothing moved, and the Stubber saw no invocation


def test_replay_invokes_with_the_parked_payload_and_moves_the_batch(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN two parked batches
    first = inventory.park(inventory.write("A", "B"), "a")
    second = inventory.park(inventory.write("C"), "b")
    function.mappings()
    function.configuration()
    for key in (first, second):
        payload = json.loads(inventory.s3.get_object(Bucket=inventory.bucket, Key=key)["Body"].read())["payload"]
        function.answers(payload, {"batchItemFailures": []})  # the exact text Lambda parked

    # WHEN they are replayed
    result: Result = run("replay", "--all", "--yes", *STACK)

    # THEN each was invoked once, in order, a pause apart, and moved under replayed/
    assert result.code == 0, result.stderr
    assert inventory.keys("aws/") == []
    assert inventory.keys("replayed/") == sorted([f"replayed/{first}", f"replayed/{second}"])
    assert run.pauses == [1.0]
    assert result.stdout.splitlines()[-1] == "2 batch(es) replayed, 0 still parked"
    # the bucket is versioned: the parked object's version is still there
    versions = inventory.s3.list_object_versions(Bucket=inventory.bucket, Prefix=first)
    assert len(versions["Versions"]) == 1 and len(versions["DeleteMarkers"]) == 1


def test_replaying_twice_replays_nothing_twice(inventory: Inventory, function: Function, run: Any) -> None:
    key = inventory.park(inventory.write("A"))
    function.mappings()
    function.configuration()
    function.answers(
        json.loads(inventory.s3.get_object(Bucket=inventory.bucket, Key=key)["Body"].read())["payload"], {}
    )
    assert run("replay", key, "--yes", *STACK).code == 0

    function.mappings()
    function.configuration()  # and no invocation this time: the Stubber would refuse one
    again: Result = run("replay", key, "--yes", *STACK)
    function.mappings()
    function.configuration()
    everything: Result = run("replay", "--all", "--yes", *STACK)

    assert (again.code, again.stdout) == (0, f"{key}: replayed already\nnothing to replay in s3://inventory-failures\n")
    assert (everything.code, everything.stdout) == (0, "nothing to replay in s3://inventory-failures\n")


def test_an_interrupted_replay_continues_where_it_stopped(inventory: Inventory, function: Function, run: Any) -> None:
    # GIVEN three batches, and a run that stopped after copying the second to replayed/ but before deleting it
    keys = [inventory.park(inventory.write(sk), name) for sk, name in (("A", "a"), ("B", "b"), ("C", "c"))]
    payloads = [
        json.loads(inventory.s3.get_object(Bucket=inventory.bucket, Key=k)["Body"].read())["payload"] for k in keys
    ]
    inventory.s3.copy_object(
        Bucket=inventory.bucket, Key=f"replayed/{keys[0]}", CopySource={"Bucket": inventory.bucket, "Key": keys[0]}
    )
    inventory.s3.delete_object(Bucket=inventory.bucket, Key=keys[0])
    inventory.s3.copy_object(
        Bucket=inventory.bucket, Key=f"replayed/{keys[1]}", CopySource={"Bucket": inventory.bucket, "Key": keys[1]}
    )
    function.mappings()
    function.configuration()
    function.answers(payloads[2], {"batchItemFailures": []})  # only the third is invoked

    result: Result = run("replay", "--all", "--yes", *STACK)

    assert result.code == 0, result.stderr
    assert f"{keys[1]}: replayed already; moved to s3://inventory-failures/replayed/{keys[1]}" in result.stdout
    assert inventory.keys("aws/") == []
    assert inventory.keys("replayed/") == sorted(f"replayed/{k}" for k in keys)


def test_ctrl_c_between_batches_leaves_the_rest_parked_for_the_next_run(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN two batches, and an operator who presses Ctrl-C during the pause after the first
    first = inventory.park(inventory.write("A"), "a")
    second = inventory.park(inventory.write("B"), "b")
    function.mappings()
    function.configuration()
    payload = json.loads(inventory.s3.get_object(Bucket=inventory.bucket, Key=first)["Body"].read())["payload"]
    function.answers(payload, {})

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    run.sleep = interrupt
    result: Result = run("replay", "--all", "--yes", *STACK)

    # THEN the first is replayed, the second still parked, and the run says how to go on
    assert (result.code, result.stderr) == (130, "interrupted: run the command again to continue\n")
    assert inventory.keys("aws/") == [second]
    assert inventory.keys("replayed/") == [f"replayed/{first}"]


def test_a_batch_that_still_fails_stays_parked_and_says_why(inventory: Inventory, function: Function, run: Any) -> None:
    # GIVEN a batch whose second record the function still cannot process
    good, bad, later = inventory.write("A", "POISON#1", "C")
    key = inventory.park([good, bad, later])
    function.environment = {"REDACT_ATTRIBUTES": "[]"}
    function.mappings()
    function.configuration()
    payload = json.loads(inventory.s3.get_object(Bucket=inventory.bucket, Key=key)["Body"].read())["payload"]
    failed = bad["dynamodb"]["SequenceNumber"]
    function.answers(
        payload,
        {"batchItemFailures": [{"itemIdentifier": failed}]},
        log=[error_line(bad, "Keys is not an object")],
    )

    result: Result = run("replay", key, "--yes", *STACK)

    assert result.code == 1
    assert result.stdout.splitlines() == [
        f"{key}: still fails, stays parked: records reported as failed",
        f"  {failed} INSERT PK=FRUIT SK=POISON#1: Keys is not an object",
        "  the 1 record(s) before it were processed by this invocation; a later replay of the batch processes them "
        "again (their log lines carry the same sequence_number)",
        "0 batch(es) replayed, 1 still parked",
    ]
    assert inventory.keys() == [key]


def test_a_reason_not_in_the_log_tail_is_looked_up_in_the_log_group(
    inventory: Inventory, function: Function, run: Any
) -> None:
    (bad,) = inventory.write("POISON#1")
    key = inventory.park([bad])
    inventory.log(error_line(bad, "NewImage: Stocks: N value is not a number"))
    function.mappings()
    function.configuration()
    payload = json.loads(inventory.s3.get_object(Bucket=inventory.bucket, Key=key)["Body"].read())["payload"]
    failed = bad["dynamodb"]["SequenceNumber"]
    function.answers(payload, {"batchItemFailures": [{"itemIdentifier": failed}]}, log=[])

    result: Result = run("replay", key, "--yes", *STACK)

    assert result.code == 1
    assert f"  {failed} INSERT PK=FRUIT SK=[REDACTED]: NewImage: Stocks: N value is not a number" in result.stdout


def test_replay_local_of_a_deployed_destination_only_tries_the_fix(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN a parked batch, and the deployed function's configuration
    key = inventory.park(inventory.write("A", "B"))
    function.mappings()
    function.configuration()

    # WHEN it is replayed through the local handler
    result: Result = run("replay", key, "--yes", "--local", *STACK)

    # THEN the handler processes it, but it stays parked: its lines are not in the function's log group
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{key}: the local handler processes its 2 record(s); left parked: replay it without --local once the fix "
        "is deployed",
        "1 batch(es) pass through the local handler, 0 still fail; all left parked",
    ]
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    logged = [line for line in lines if "event_name" in line]
    assert [line["keys"] for line in logged] == [{"PK": "FRUIT", "SK": "[REDACTED]"}] * 2  # the function's redact
    assert {line.get("function_name") for line in lines} >= {FUNCTION}
    assert inventory.keys() == [key]


def test_a_function_error_keeps_the_batch_parked(inventory: Inventory, function: Function, run: Any) -> None:
    key = inventory.park(inventory.write("A"))
    function.mappings()
    function.configuration()
    payload = json.loads(inventory.s3.get_object(Bucket=inventory.bucket, Key=key)["Body"].read())["payload"]
    function.answers(payload, {"errorType": "RuntimeError", "errorMessage": "boom"}, function_error="Unhandled")

    result: Result = run("replay", key, "--yes", *STACK)

    assert result.code == 1
    assert f"{key}: still fails, stays parked: function error (Unhandled): RuntimeError: boom" in result.stdout
    assert inventory.keys() == [key]


def test_an_object_that_is_not_a_failure_record_is_an_error_and_nothing_moves(
    inventory: Inventory, function: Function, run: Any
) -> None:
    good = inventory.park(inventory.write("A"), "a")
    stray = "aws/lambda/11111111-2222-3333-4444-555555555555/notes.txt"
    inventory.s3.put_object(Bucket=inventory.bucket, Key=stray, Body=b'{"hello": "world"}')
    function.mappings()
    function.configuration()

    result: Result = run("replay", "--all", "--yes", *STACK)

    assert result.code == 2
    assert result.stderr == (
        f"error: {stray} is not a failure record of a DynamoDB stream mapping: "
        "it has no requestContext or DDBStreamBatchInfo\n"
    )
    assert sorted(inventory.keys()) == sorted([good, stray])


def test_a_batch_of_another_function_is_refused_before_anything_is_invoked(
    inventory: Inventory, function: Function, run: Any
) -> None:
    mine = inventory.park(inventory.write("A"), "a")
    theirs = inventory.park(
        inventory.write("B"), "b", function_arn="arn:aws:lambda:us-east-1:123456789012:function:other"
    )
    function.mappings()
    function.configuration()

    result: Result = run("replay", mine, theirs, "--yes", *STACK)

    assert result.code == 2
    assert result.stderr.startswith(f"error: {theirs} was parked by the function other, not {FUNCTION}: ")
    assert sorted(inventory.keys()) == sorted([mine, theirs])


def test_a_forged_marker_leaves_the_batch_parked_and_nothing_is_invoked_or_deleted(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN a parked batch, and a 1-byte object at its replayed/ key (not written by the redrive)
    key = inventory.park(inventory.write("A"))
    inventory.s3.put_object(Bucket=inventory.bucket, Key=f"replayed/{key}", Body=b"x")
    function.mappings()
    function.configuration()  # and no invocation: the Stubber would refuse one

    # WHEN everything is replayed
    result: Result = run("replay", "--all", "--yes", *STACK)

    # THEN the batch stays parked, the marker is untouched, and the run says so and fails
    assert result.code == 1
    assert (
        f"{key}: left parked: s3://inventory-failures/replayed/{key} exists and is not a copy of this batch"
        in result.stdout
    )
    assert result.stdout.splitlines()[-1] == "0 batch(es) replayed, 1 still parked"
    assert inventory.keys("aws/") == [key]
    assert inventory.s3.get_object(Bucket=inventory.bucket, Key=f"replayed/{key}")["Body"].read() == b"x"


def parked_payload(inventory: Inventory, key: str) -> str:
    return str(json.loads(inventory.s3.get_object(Bucket=inventory.bucket, Key=key)["Body"].read())["payload"])


def test_a_replay_whose_outcome_could_not_be_recorded_is_never_invoked_again(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN a batch whose replay succeeds, but whose copy may not be marked replayed (denied)
    key = inventory.park(inventory.write("A", "B"))
    function.mappings()
    function.configuration()
    function.answers(parked_payload(inventory, key), {})

    def deny(params: dict[str, Any], **_: Any) -> None:
        if params.get("Metadata") == {"replay-state": "replayed"}:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "CopyObject")

    inventory.s3.meta.events.register("provide-client-params.s3.CopyObject", deny)
    first: Result = run("replay", key, "--yes", *STACK)
    inventory.s3.meta.events.unregister("provide-client-params.s3.CopyObject", deny)

    # WHEN the batches are replayed again
    function.mappings()
    function.configuration()  # and no invocation: the Stubber would refuse one
    again: Result = run("replay", "--all", "--yes", *STACK)

    # THEN the first run failed in one line, and the second invoked nothing, said why, and left it parked
    assert first.code == 2 and len(first.stderr.splitlines()) == 1, first.stderr
    assert again.code == 1
    assert again.stdout.splitlines()[0].startswith(
        f"{key}: left parked: an earlier replay invoked the function and stopped before recording how the "
        f"invocation ended (s3://inventory-failures/replayed/{key} says invoking)"
    )
    assert again.stdout.splitlines()[-1] == "0 batch(es) replayed, 1 still parked"
    assert inventory.keys("aws/") == [key]


def test_a_replay_lambda_refused_leaves_nothing_recorded_and_replays_next_time(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN a batch whose first invocation Lambda throttles
    key = inventory.park(inventory.write("A"))
    function.mappings()
    function.configuration()
    function.stubber.add_client_error("invoke", "TooManyRequestsException", "Rate exceeded", 429)
    throttled: Result = run("replay", key, "--yes", *STACK)

    # WHEN it is replayed again
    function.mappings()
    function.configuration()
    function.answers(parked_payload(inventory, key), {})
    again: Result = run("replay", key, "--yes", *STACK)

    # THEN the first run recorded nothing (no marker), and the second replayed it
    assert throttled.code == 2, throttled.stderr
    assert (again.code, again.stdout.splitlines()[-1]) == (0, "1 batch(es) replayed, 0 still parked")
    assert inventory.keys("aws/") == []


def test_an_invocation_interrupted_is_not_invoked_again_on_the_next_run(
    inventory: Inventory, function: Function, run: Any
) -> None:
    # GIVEN a run stopped (Ctrl-C) while the function ran
    key = inventory.park(inventory.write("A"))
    function.mappings()
    function.configuration()

    def interrupt(**_: Any) -> None:
        raise KeyboardInterrupt

    function.client.meta.events.register("provide-client-params.lambda.Invoke", interrupt)
    interrupted: Result = run("replay", key, "--yes", *STACK)
    function.client.meta.events.unregister("provide-client-params.lambda.Invoke", interrupt)

    # WHEN the next run replays everything
    function.mappings()
    function.configuration()  # and no invocation
    again: Result = run("replay", "--all", "--yes", *STACK)

    # THEN it leaves the batch parked and says how to go on
    assert interrupted.code == 130
    assert again.code == 1
    assert "then delete that object to replay the batch" in again.stdout
    assert inventory.keys("aws/") == [key]


def test_a_batch_changed_after_it_was_read_is_not_deleted(inventory: Inventory) -> None:
    # GIVEN a parked batch read for its replay, then overwritten by another writer
    key = inventory.park(inventory.write("A"))
    store = S3Store(inventory.s3, inventory.bucket)
    batch = store.get(key)
    assert batch is not None and store.marker(batch) is Marker.ABSENT
    inventory.s3.put_object(Bucket=inventory.bucket, Key=key, Body=json.dumps(inventory.document(inventory.write("B"))))

    # WHEN the replayed batch is marked
    with pytest.raises(RedriveError, match=f"^{key}: left parked: .* is not a copy of this batch"):
        store.mark_replayed(batch)

    # THEN the object that was not replayed stays parked
    assert inventory.keys("aws/") == [key]


def test_a_marker_that_is_the_batchs_copy_moves_it_without_replaying(inventory: Inventory) -> None:
    key = inventory.park(inventory.write("A"))
    store = S3Store(inventory.s3, inventory.bucket)
    batch = store.get(key)
    assert batch is not None
    inventory.s3.copy_object(
        Bucket=inventory.bucket, Key=f"replayed/{key}", CopySource={"Bucket": inventory.bucket, "Key": key}
    )

    assert store.marker(batch) is Marker.COPY
    assert store.mark_replayed(batch) == f"s3://inventory-failures/replayed/{key}"
    assert inventory.keys("aws/") == []


def test_a_payload_with_more_records_than_its_batch_size_is_refused(
    inventory: Inventory, function: Function, run: Any
) -> None:
    document = inventory.document(inventory.write("A", "B"))
    document["DDBStreamBatchInfo"]["batchSize"] = 1
    key = (
        f"aws/lambda/11111111-2222-3333-4444-555555555555/{document['DDBStreamBatchInfo']['shardId']}/2026/12/01/x.json"
    )
    inventory.s3.put_object(Bucket=inventory.bucket, Key=key, Body=json.dumps(document))
    function.mappings()
    function.configuration()

    result: Result = run("replay", "--all", "--yes", *STACK)

    assert result.code == 2
    assert result.stderr.endswith(": its payload holds no records or more than DDBStreamBatchInfo.batchSize\n")
    assert inventory.keys() == [key]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"DDBStreamBatchInfo": {"batchSize": "x"}}, "DDBStreamBatchInfo.batchSize is not a positive whole number"),
        ({"DDBStreamBatchInfo": {"batchSize": 0}}, "DDBStreamBatchInfo.batchSize is not a positive whole number"),
        ({"DDBStreamBatchInfo": {"batchSize": True}}, "DDBStreamBatchInfo.batchSize is not a positive whole number"),
        ({"requestContext": {"functionArn": "x"}}, "requestContext.functionArn is not the ARN of a Lambda function"),
        (
            {"requestContext": {"functionArn": "arn:aws:lambda:us-east-1:123456789012"}},
            "requestContext.functionArn is not the ARN of a Lambda function",
        ),
        ({"DDBStreamBatchInfo": {"shardId": ["s"]}}, "DDBStreamBatchInfo.shardId is not a string"),
        # a hand-written batch whose payload is not the batch it describes
        (
            {"DDBStreamBatchInfo": {"streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/other/stream/1"}},
            "its payload holds a record of another stream than DDBStreamBatchInfo.streamArn",
        ),
        (
            {"DDBStreamBatchInfo": {"startSequenceNumber": "1", "endSequenceNumber": "2"}},
            "its payload holds a record outside DDBStreamBatchInfo's sequence numbers",
        ),
        (
            {"DDBStreamBatchInfo": {"endSequenceNumber": "NaN"}},
            "its payload holds a record outside DDBStreamBatchInfo's sequence numbers",
        ),
        (
            {"DDBStreamBatchInfo": {"shardId": "shardId-2"}},
            "its key does not name its shard (aws/lambda/<mapping>/<shard>/...)",
        ),
    ],
)
def test_a_malformed_parked_file_is_one_line_naming_the_field_and_nothing_moves(
    inventory: Inventory, function: Function, run: Any, change: dict[str, dict[str, Any]], reason: str
) -> None:
    # GIVEN a failure record with one field Lambda would never write
    document = inventory.document(inventory.write("A"))
    for section, fields in change.items():
        document[section].update(fields)
    key = "aws/lambda/11111111-2222-3333-4444-555555555555/shardId-1/2026/12/01/forged.json"
    inventory.s3.put_object(Bucket=inventory.bucket, Key=key, Body=json.dumps(document))
    function.mappings()
    function.configuration()

    result: Result = run("replay", "--all", "--yes", *STACK)

    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == f"error: {key} is not a failure record of a DynamoDB stream mapping: {reason}\n"
    assert inventory.keys() == [key]
