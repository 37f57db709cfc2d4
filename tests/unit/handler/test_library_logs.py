"""No item data in a library's debug output, at any log level, in either function.

Lambda's Python runtime sets the root logger to the function's application log level and
attaches its handler before it imports the handler module (awslambdaric,
``bootstrap._setup_logging``): at DEBUG, every library that logs through ``logging`` reaches the
log group, and botocore logs whole request bodies. Each test runs a handler module fresh in such
a process, with moto for the AWS call, and reads every record the root logger received.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from string import Template
from typing import Any

from local import LAMBDA_DIR

from .conftest import load_event

SECRET = "zq7-item-secret-9c41"  # in a non-key attribute of the item
LIBRARIES = ("botocore", "boto3", "urllib3", "s3transfer")

# As Lambda's bootstrap, before the handler's import: the root logger at the application log
# level (DEBUG), with a handler that takes every record. Then the handler runs against moto.
PROGRAM = Template("""
import json, logging, sys, types

captured = []

class Capture(logging.Handler):
    def emit(self, record):
        captured.append({"logger": record.name, "levelno": record.levelno, "message": record.getMessage()})

root = logging.getLogger()
root.setLevel("DEBUG")
root.addHandler(Capture())

from moto import mock_aws
import boto3

context = types.SimpleNamespace(
    function_name="function", memory_limit_in_mb=256, aws_request_id="request-1",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:function",
    get_remaining_time_in_millis=lambda: 30_000,
)
event = json.loads(sys.stdin.read())
with mock_aws():
    $setup
    mark = len(captured)  # what the setup above logged is the test's, not the handler's
    import $module
    response = $module.handler(event, context)
    seen = captured[mark:]
    $check
with open(sys.argv[1], "w") as result:
    json.dump({"captured": seen, "response": response, "check": check}, result)
""")


def _run(tmp_path: Path, module: str, setup: str, check: str, event: Any, **environment: str) -> dict[str, Any]:
    result_file = tmp_path / "result.json"
    variables = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE"))
    }
    variables.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_LAMBDA_LOG_LEVEL="DEBUG",
        AWS_LAMBDA_LOG_FORMAT="JSON",
        POWERTOOLS_LOG_LEVEL="DEBUG",
        KEY_ATTRIBUTES='["PK","SK"]',
        **environment,
    )
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM.substitute(module=module, setup=setup, check=check), str(result_file)],
        input=json.dumps(event),
        env=variables,
        cwd=LAMBDA_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    outcome: dict[str, Any] = json.loads(result_file.read_text())
    outcome["lines"] = [json.loads(line) for line in run.stdout.splitlines()]
    return outcome


def _leaks(captured: list[dict[str, Any]]) -> list[str]:
    """The loggers whose records carry the value; moto's are left out: moto stands in for AWS."""
    return [
        entry["logger"] for entry in captured if SECRET in entry["message"] and entry["logger"].split(".")[0] != "moto"
    ]


def _library_debug(captured: list[dict[str, Any]]) -> list[str]:
    """The loggers of the AWS SDK and its HTTP client that wrote below WARNING."""
    return sorted(
        {
            entry["logger"]
            for entry in captured
            if entry["logger"].split(".")[0] in LIBRARIES and entry["levelno"] < logging.WARNING
        }
    )


def test_the_alerts_function_publishes_the_item_and_no_library_logs_it(tmp_path: Path) -> None:
    # GIVEN a change that fires a rule, its item with a distinctive value, the root logger at DEBUG
    event = load_event("tutorial_modify")
    event["Records"][0]["dynamodb"]["NewImage"]["Secret"] = {"S": SECRET}
    rules = [{"name": "low", "kind": "falls_to_or_below", "attribute": "Stocks", "threshold": "32", "title": "Low"}]

    # WHEN the alerts handler publishes its message (the item image in it) through botocore
    outcome = _run(
        tmp_path,
        "change_alerts",
        setup='boto3.client("sns").create_topic(Name="alerts")',
        check='check = "published"',
        event=event,
        ALERT_RULES=json.dumps(rules),
        TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:alerts",
        INCLUDE_IMAGE="true",  # the image in the message, so that a library logging the body would show it
    )

    # THEN the message went out, and no record the root logger received carries the value
    assert outcome["response"] == {"batchItemFailures": []}
    assert [line["message"] for line in outcome["lines"] if line["message"].startswith("Published")] == [
        "Published: Low: FRUIT / APPLE#WASHINGTON"
    ]
    assert _leaks(outcome["captured"]) == []
    assert _library_debug(outcome["captured"]) == []


def test_the_logger_copies_an_oversized_record_and_no_library_logs_it(tmp_path: Path) -> None:
    # GIVEN a record too big for one line, with a distinctive value, and a failure bucket
    event = load_event("tutorial_modify")
    record = copy.deepcopy(event["Records"][0])
    record["dynamodb"]["NewImage"]["Blob"] = {"S": SECRET + "x" * 300_000}
    event["Records"] = [record]

    # WHEN the logger copies it whole to the bucket (S3 PutObject through botocore)
    outcome = _run(
        tmp_path,
        "stream_logger",
        setup='boto3.client("s3").create_bucket(Bucket="failures")',
        check=(
            'check = [boto3.client("s3").get_object(Bucket="failures", Key=item["Key"])["Body"].read().decode().count('
            f'"{SECRET}") for item in boto3.client("s3").list_objects_v2(Bucket="failures")["Contents"]]'
        ),
        event=event,
        FAILURE_BUCKET="failures",
    )

    # THEN the copy holds the value, no record the root logger received carries it, and the
    # libraries wrote nothing below WARNING (botocore logs S3's body as a file object, so only
    # that last check tells a quietened botocore from one that logs the whole request)
    assert outcome["response"] == {"batchItemFailures": []}
    assert outcome["check"] == [1]
    assert _leaks(outcome["captured"]) == []
    assert _library_debug(outcome["captured"]) == []
