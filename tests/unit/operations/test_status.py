"""``status``: a healthy and an unhealthy mapping. CloudWatch, S3, SQS and Logs are moto's; the
mappings' State and LastProcessingResult come from a Stubber on Lambda (moto's mappings have no
LastProcessingResult and moto's Lambda runs no code)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from stacks.table_stream_logger import operations
from stacks.table_stream_logger.operations import status
from tests.unit.operations.conftest import Result

REGION = "us-east-1"
FUNCTION = "InventoryStack-InventoryLoggerFunction6352DB15"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}"
GROUP = f"/aws/lambda/{FUNCTION}"
BUCKET = "inventory-failures"
UUID = "7f3c1a52-9d0e-4b8a-a1c6-2e5b7d9f4c31"


class Deployed:
    def __init__(self) -> None:
        names = ("cloudformation", "cloudwatch", "s3", "logs", "sqs")
        self.clients: dict[str, Any] = {name: boto3.client(name, region_name=REGION) for name in names}
        self.clients["lambda"] = botocore.session.get_session().create_client("lambda", region_name=REGION)
        self.stubber = Stubber(self.clients["lambda"])
        self.clients["s3"].create_bucket(Bucket=BUCKET)
        self.clients["logs"].create_log_group(logGroupName=GROUP)
        self.clients["logs"].create_log_stream(logGroupName=GROUP, logStreamName="s")

    def mapping(self, state: str, result: str) -> None:
        self.stubber.add_response(
            "list_event_source_mappings",
            {
                "EventSourceMappings": [
                    {
                        "UUID": UUID,
                        "FunctionArn": FUNCTION_ARN,
                        "State": state,
                        "LastProcessingResult": result,
                        "DestinationConfig": {"OnFailure": {"Destination": f"arn:aws:s3:::{BUCKET}"}},
                    }
                ]
            },
            {"FunctionName": FUNCTION},
        )
        self.stubber.add_response(
            "get_function_configuration",
            {
                "FunctionName": FUNCTION,
                "FunctionArn": FUNCTION_ARN,
                "Handler": "stream_logger.handler",  # the logger's: its last change line is a fact
                "LoggingConfig": {"LogGroup": GROUP},
            },
            {"FunctionName": FUNCTION},
        )

    def log(self, *lines: tuple[datetime, dict[str, Any]]) -> None:
        events = [{"timestamp": int(at.timestamp() * 1000), "message": json.dumps(line)} for at, line in lines]
        self.clients["logs"].put_log_events(logGroupName=GROUP, logStreamName="s", logEvents=events)

    def __call__(self, *arguments: str) -> Result:
        stdout, stderr = io.StringIO(), io.StringIO()
        code = operations.main(["status", *arguments], stdout=stdout, stderr=stderr, clients=self.clients.__getitem__)
        return Result(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        stack = Deployed()
        with stack.stubber:
            yield stack
            stack.stubber.assert_no_pending_responses()


def test_a_healthy_mapping(deployed: Deployed) -> None:
    # GIVEN an enabled mapping that processed its last batch, a lag of 250 ms, a change line
    # 3 minutes ago and, later, the function's per-invocation line (no event_name)
    deployed.mapping("Enabled", "OK")
    changed = datetime.now(UTC).replace(microsecond=250_000) - timedelta(minutes=3)
    deployed.log((changed, {"event_name": "MODIFY"}), (changed + timedelta(seconds=1), {"message": "invocation"}))
    deployed.clients["cloudwatch"].put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "FunctionName", "Value": FUNCTION}],
                "Value": 250.0,
                "Unit": "Milliseconds",
                "Timestamp": datetime.now(UTC) - timedelta(minutes=2),
            }
        ],
    )

    result = deployed("--function-name", FUNCTION)

    assert (result.code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"mapping {UUID} ({FUNCTION}): State Enabled, LastProcessingResult OK",
        f"lag of {FUNCTION}: 0.2 s, the largest IteratorAge of the last 15 minutes (limit 60 s)",
        f"parked: 0 batch(es) in arn:aws:s3:::{BUCKET}",
        f"last change line of {FUNCTION}: {changed:%Y-%m-%dT%H:%M:%S}.250Z",
        "alarms in ALARM: none",
        "records that could not be processed, last 24 hours: none",
        "healthy",
    ]


def test_an_unhealthy_mapping(deployed: Deployed) -> None:
    # GIVEN a mapping whose function fails, a parked batch, an ERROR line, and a lag of 2 minutes
    deployed.mapping("Enabled", "PROBLEM: Function call failed")
    deployed.clients["s3"].put_object(Bucket=BUCKET, Key="aws/lambda/m/shard/2026/12/02/batch.json", Body=b"{}")
    deployed.clients["s3"].put_object(Bucket=BUCKET, Key="oversized/t/2026-12-02/1.json", Body=b"{}")
    error = {"level": "ERROR", "message": "Record cannot be processed", "sequence_number": "11", "reason": "bad N"}
    deployed.clients["logs"].put_log_events(
        logGroupName=GROUP,
        logStreamName="s",
        logEvents=[{"timestamp": int(datetime.now(UTC).timestamp() * 1000), "message": json.dumps(error)}],
    )
    deployed.clients["cloudwatch"].put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "FunctionName", "Value": FUNCTION}],
                "Value": 120_000.0,
                "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
            }
        ],
    )

    result = deployed("--function-name", FUNCTION, "--format", "json")

    assert result.code == 1, result.stderr
    facts = json.loads(result.stdout)
    assert facts["healthy"] is False
    assert facts["parked"] == {f"arn:aws:s3:::{BUCKET}": 1}
    assert facts["lag"] == {FUNCTION: 120.0}
    assert facts["errors"] == [json.dumps(error)]
    assert facts["last_change"] == {FUNCTION: None}  # an ERROR line is no change line
    assert facts["problems"] == [
        f"the mapping {UUID}'s last processing result is PROBLEM: Function call failed",
        f"{FUNCTION} lags 120 s behind the stream",
        f"1 batch(es) parked in arn:aws:s3:::{BUCKET}",
    ]


def test_a_disabled_mapping_is_unhealthy(deployed: Deployed) -> None:
    deployed.mapping("Disabled", "No records processed")

    result = deployed("--function-name", FUNCTION)

    assert result.code == 1
    assert result.stdout.splitlines()[-1] == f"unhealthy: the mapping {UUID} is Disabled"
    assert "no data (no records read)" in result.stdout


def test_a_stack_that_does_not_exist_is_one_line(deployed: Deployed) -> None:
    result = deployed("--stack-name", "Nope")

    assert (result.code, result.stdout, result.stderr) == (2, "", "error: no stack named Nope in us-east-1\n")


def test_a_local_run(tmp_path: Path) -> None:
    stdout = io.StringIO()
    assert operations.main(["status", "--local", str(tmp_path)], stdout=stdout) == 0
    assert stdout.getvalue().splitlines() == [f"parked: 0 batch(es) in {tmp_path}", "healthy"]


def test_a_local_run_that_parked_nothing_has_no_folder_and_is_healthy(tmp_path: Path) -> None:
    # make local creates .local-failures with the first batch it parks: a clean run leaves none
    stdout = io.StringIO()
    assert operations.main(["status", "--local", str(tmp_path / "none")], stdout=stdout) == 0
    assert stdout.getvalue().splitlines() == [
        f"parked: 0 batch(es) in {tmp_path / 'none'} (no such folder: nothing parked there yet)",
        "healthy",
    ]


def test_a_local_path_that_is_a_file_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    stderr = io.StringIO()
    assert operations.main(["status", "--local", str(tmp_path / "file")], stderr=stderr) == 2
    assert (
        stderr.getvalue()
        == f"error: --local {tmp_path / 'file'}: not a folder (python -m local parks in .local-failures)\n"
    )


@pytest.mark.parametrize(
    "arguments",
    [[], ["--stack-name", "S", "--function-name", "F"]],
)
def test_what_to_check_is_said_once(arguments: list[str]) -> None:
    stderr = io.StringIO()
    assert operations.main(["status", *arguments], stderr=stderr) == 2
    assert stderr.getvalue() == (
        "error: say what to check, once: --stack-name NAME, --function-name NAME ... or --local DIR\n"
    )


def test_the_last_change_line_is_the_newest_of_the_last_24_hours() -> None:
    # GIVEN change lines 20 hours and 2 hours ago: the newest minute and quarter hour have none
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    logs = botocore.session.get_session().create_client("logs", region_name=REGION)
    newest = now - timedelta(hours=2)
    windows = [
        (now - timedelta(minutes=1), now, []),
        (now - timedelta(minutes=15), now - timedelta(minutes=1), []),
        (now - timedelta(hours=24), now - timedelta(minutes=15), [now - timedelta(hours=20), newest]),
    ]
    with Stubber(logs) as stubber:
        for start, end, times in windows:
            events = [{"timestamp": int(t.timestamp() * 1000), "message": '{"event_name":"INSERT"}'} for t in times]
            stubber.add_response(
                "filter_log_events",
                {"events": events},
                {
                    "logGroupName": GROUP,
                    "startTime": int(start.timestamp() * 1000),
                    "endTime": int(end.timestamp() * 1000),
                    "filterPattern": '{ $.event_name = "*" }',  # CloudWatch sends the change lines only
                },
            )

        assert status.last_change_line(logs, GROUP, now) == newest
        stubber.assert_no_pending_responses()


def test_no_change_line_in_24_hours_is_none_after_three_reads() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    logs = botocore.session.get_session().create_client("logs", region_name=REGION)
    with Stubber(logs) as stubber:
        for _ in range(3):
            stubber.add_response("filter_log_events", {"events": [{"timestamp": 1, "message": "START RequestId"}]})

        assert status.last_change_line(logs, GROUP, now) is None
        stubber.assert_no_pending_responses()
