"""``--local`` (this package's handler, in this process) with a local folder, and the errors a user can make."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from local.bookkeeping import Entry, Outcome
from local.on_failure import failure_document
from stacks.table_stream_logger import operations
from tests.unit.operations.conftest import FUNCTION, Function, Inventory, Result

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Inventory/stream/2026-12-01T00:00:00.000"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:InventoryStack-Function"


def record(sk: str, sequence_number: str, *, keys: bool = True) -> dict[str, Any]:
    stream: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_796_000_000,
        "NewImage": {"PK": {"S": "FRUIT"}, "SK": {"S": sk}, "Stocks": {"N": "3"}},
        "SequenceNumber": sequence_number,
        "SizeBytes": 50,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if keys:
        stream["Keys"] = {"PK": {"S": "FRUIT"}, "SK": {"S": sk}}
    return {
        "eventID": f"id-{sequence_number}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": stream,
        "eventSourceARN": STREAM_ARN,
    }


def park(folder: Path, name: str, records: list[dict[str, Any]], *, function_arn: str = FUNCTION_ARN) -> str:
    """Write a failure record the way ``python -m local`` does; return its key."""
    document = failure_document(
        [Entry(r, "shard-1", invocations=11) for r in records],
        condition="RetryAttemptsExhausted",
        outcome=Outcome(False, request_id="req"),
        function_arn=function_arn,
        stream_arn=STREAM_ARN,
        now=1_796_000_100.0,
    )
    key = f"aws/lambda/Mapping/shard-1/2026/11/30/{name}.json"
    (folder / key).parent.mkdir(parents=True, exist_ok=True)
    (folder / key).write_text(json.dumps(document))
    return key


def run_local(*arguments: str) -> Result:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = operations.main(list(arguments), stdout=stdout, stderr=stderr, sleep=lambda seconds: None)
    return Result(code, stdout.getvalue(), stderr.getvalue())


def test_replay_local_runs_the_handler_and_moves_the_batch(tmp_path: Path, environment: None) -> None:
    key = park(tmp_path, "a", [record("KIWI#NZ", "100"), record("LIME#MX", "101")])

    result = run_local("replay", "--all", "--yes", "--local", "--folder", str(tmp_path))

    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{key}: replayed 2 record(s) through the local handler; moved to {tmp_path / 'replayed' / key}",
        "1 batch(es) replayed, 0 still parked",
    ]
    # the function's log lines go to stderr, one per record
    logged = [json.loads(line) for line in result.stderr.splitlines() if '"event_name"' in line]
    assert [(line["sequence_number"], line["keys"]) for line in logged] == [
        ("100", {"PK": "FRUIT", "SK": "KIWI#NZ"}),
        ("101", {"PK": "FRUIT", "SK": "LIME#MX"}),
    ]
    assert not (tmp_path / key).exists()


def test_replay_local_of_a_record_the_handler_still_rejects(tmp_path: Path, environment: None) -> None:
    key = park(tmp_path, "a", [record("KIWI#NZ", "100"), record("BROKEN", "101", keys=False)])

    result = run_local("replay", key, "--yes", "--local", "--folder", str(tmp_path))

    assert result.code == 1
    assert result.stdout.splitlines()[:2] == [
        f"{key}: still fails, stays parked: records reported as failed",
        "  101 INSERT -: Keys is not an object",
    ]
    assert (tmp_path / key).exists()


def test_show_of_a_folder_without_a_known_redaction_hides_the_keys(tmp_path: Path) -> None:
    key = park(tmp_path, "a", [record("KIWI#NZ", "100")])
    saved = os.environ.pop("REDACT_ATTRIBUTES", None)
    try:
        result = run_local("show", key, "--folder", str(tmp_path), "--format", "json")
    finally:
        if saved is not None:
            os.environ["REDACT_ATTRIBUTES"] = saved

    assert result.code == 0, result.stderr
    (shown,) = json.loads(result.stdout)["records"]
    assert shown["keys"] == {"PK": "[REDACTED]", "SK": "[REDACTED]"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["list"], "say where the parked batches are: --stack-name, --bucket, --queue-url or --folder"),
        (["replay", "--folder", "."], "--folder goes with --local: a deployed function is never invoked with it"),
        (["replay", "--folder", ".", "--local"], "say which batches to replay: KEY ..., --all, or --since/--until"),
        (["list", "--folder", "does-not-exist"], "does-not-exist is not a folder"),
        (
            ["show", "notes.txt", "--folder", "."],
            "notes.txt is not the key of a parked batch: those start with aws/lambda/",
        ),
        (
            ["list", "--folder", ".", "--since", "yesterday"],
            "'yesterday' is not a time: give e.g. 2026-12-01T14:00:00Z, 2026-12-01 or 6h",
        ),
    ],
)
def test_usage_errors_are_one_line(arguments: list[str], message: str) -> None:
    result = run_local(*arguments)

    assert (result.code, result.stderr) == (2, f"error: {message}\n")


def test_without_boto3_the_command_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 fails as if not installed

    result = run_local("list", "--stack-name", "InventoryStack", "--region", "eu-west-1")

    assert (result.code, result.stderr) == (
        2,
        "error: this command needs boto3: pip install 'table-stream-logger[redrive]'\n",
    )


def test_without_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    result = run_local("list", "--stack-name", "InventoryStack", "--region", "eu-west-1")

    assert (result.code, result.stderr) == (
        2,
        "error: no AWS credentials found: sign in (aws sso login, aws configure) or give --profile\n",
    )


def test_no_such_stack(inventory: Inventory, run: Any) -> None:
    result: Result = run("list", "--stack-name", "Nope")

    assert (result.code, result.stderr) == (2, "error: no stack named Nope in us-east-1\n")


def test_no_such_bucket(inventory: Inventory, function: Function, run: Any) -> None:
    function.configuration()

    result: Result = run("list", "--bucket", "not-mine", "--function-name", FUNCTION)

    assert (result.code, result.stderr) == (2, "error: no such bucket: not-mine\n")


def test_access_denied(inventory: Inventory, function: Function, run: Any) -> None:
    function.mappings()
    function.stubber.add_client_error(
        "get_function_configuration", "AccessDeniedException", "User alice is not authorized", http_status_code=403
    )

    result: Result = run("list", "--stack-name", "InventoryStack")

    assert (result.code, result.stderr) == (
        2,
        "error: access denied (GetFunctionConfiguration): User alice is not authorized\n",
    )


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("list", "show", "replay"):
        with pytest.raises(SystemExit) as exit_:
            operations.main([command, "--help"])
        assert exit_.value.code == 0
        assert f"usage: python -m table_stream_logger {command}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["list", "--endpoint-url", "localhost:8000", "--folder", "."],
            "argument --endpoint-url: 'localhost:8000' is not a URL with a scheme: give http:// or https://, "
            "e.g. http://localhost:8000 (see python -m table_stream_logger list --help)",
        ),
        (["list", "--bogus"], "unrecognized arguments: --bogus (see python -m table_stream_logger --help)"),
        (
            ["replay", "--pause", "x"],
            "argument --pause: invalid float value: 'x' (see python -m table_stream_logger replay --help)",
        ),
        (
            [],
            "the following arguments are required: {list,show,replay,history,status} "
            "(see python -m table_stream_logger --help)",
        ),
    ],
)
def test_argument_errors_are_one_line_and_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # An endpoint without a scheme used to be a 36-line traceback and exit status 1 ("a record was lost").
    with pytest.raises(SystemExit) as exit_:
        operations.main(arguments)

    assert (exit_.value.code, capsys.readouterr().err) == (2, f"error: {message}\n")
