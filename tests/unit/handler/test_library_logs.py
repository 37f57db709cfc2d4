"""No item data in a library's debug output, at any log level, in either function.

Lambda's Python runtime sets the root logger to the function's application log level and
attaches its handler before it imports the handler module (awslambdaric,
``bootstrap._setup_logging``): at DEBUG, every library that logs through ``logging`` reaches the
log group, and botocore logs whole request bodies. Each test runs a handler under awslambdaric
itself (``lambda_runtime``), at the application log level DEBUG, with moto's server for the AWS
call, and reads every line the process wrote: what Lambda would send to the log group.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from local import LAMBDA_DIR, backend
from stacks.table_stream_logger.operations.lambda_environment import FunctionConfig
from stacks.table_stream_logger.operations.lambda_runtime import Invocation, LambdaRuntime

from .conftest import load_event

SECRET = "zq7-item-secret-9c41"  # in a non-key attribute of the item
LIBRARIES = ("botocore", "boto3", "urllib3", "s3transfer")
REGION = "us-east-1"


@pytest.fixture(scope="module")
def services() -> Iterator[backend.LocalServices]:
    with backend.local_services(REGION) as started:
        yield started


def _run(
    services: backend.LocalServices, handler: str, event: Any, **environment: str
) -> tuple[Invocation, list[dict[str, Any]]]:
    """The handler at Lambda's DEBUG application log level: its invocation and every line, parsed."""
    config = FunctionConfig(
        name=handler.split(".")[0],
        handler=handler,
        code=LAMBDA_DIR,
        environment={"POWERTOOLS_LOG_LEVEL": "DEBUG", "KEY_ATTRIBUTES": '["PK","SK"]', **environment},
        timeout=30,  # the construct's default: a copy or a publish is only tried with the time it may take
        log_format="JSON",
        application_log_level="DEBUG",
        region=REGION,
    )
    with LambdaRuntime(config, environment=services.function_environment) as runtime:
        result = runtime.invoke(event)
    assert runtime.environment["AWS_LAMBDA_LOG_LEVEL"] == "DEBUG"  # the root logger's level in Lambda
    assert result.error is None, result.lines
    # Every line is JSON: the handler's own, and the runtime's formatting of any library record.
    return result, [json.loads(line) for line in result.lines]


def _leaks(lines: list[dict[str, Any]]) -> list[str]:
    """The lines other than the handler's own (Powertools') that carry the value."""
    return [json.dumps(line) for line in lines if SECRET in json.dumps(line) and "service" not in line]


def _library_debug(lines: list[dict[str, Any]]) -> list[str]:
    """The loggers of the AWS SDK and its HTTP client that wrote a line."""
    return sorted({str(line.get("logger")) for line in lines if str(line.get("logger", "")).split(".")[0] in LIBRARIES})


def test_the_alerts_function_publishes_the_item_and_no_library_logs_it(services: backend.LocalServices) -> None:
    # GIVEN a change that fires a rule, its item with a distinctive value, the root logger at DEBUG
    event = load_event("tutorial_modify")
    event["Records"][0]["dynamodb"]["NewImage"]["Secret"] = {"S": SECRET}
    rules = [{"name": "low", "kind": "falls_to_or_below", "attribute": "Stocks", "threshold": "32", "title": "Low"}]

    # WHEN the alerts handler publishes its message (the item image in it) through botocore
    topic = services.client("sns").create_topic(Name="alerts")["TopicArn"]
    result, lines = _run(
        services,
        "change_alerts.handler",
        event,
        ALERT_RULES=json.dumps(rules),
        TOPIC_ARN=topic,
        INCLUDE_IMAGE="true",  # the image in the message, so that a library logging the body would show it
    )

    # THEN the message went out, and no line but the handler's own carries the value
    assert result.response == {"batchItemFailures": []}
    assert [line["message"] for line in lines if line["message"].startswith("Published")] == [
        "Published: Low: FRUIT / APPLE#WASHINGTON"
    ]
    assert _leaks(lines) == []
    assert _library_debug(lines) == []


def test_the_logger_copies_an_oversized_record_and_no_library_logs_it(services: backend.LocalServices) -> None:
    # GIVEN a record too big for one line, with a distinctive value, and a failure bucket
    event = load_event("tutorial_modify")
    record = copy.deepcopy(event["Records"][0])
    record["dynamodb"]["NewImage"]["Blob"] = {"S": SECRET + "x" * 300_000}
    event["Records"] = [record]

    # WHEN the logger copies it whole to the bucket (S3 PutObject through botocore)
    s3 = services.client("s3")
    s3.create_bucket(Bucket="failures")
    result, lines = _run(services, "stream_logger.handler", event, FAILURE_BUCKET="failures")
    copies = [
        s3.get_object(Bucket="failures", Key=item["Key"])["Body"].read().decode().count(SECRET)
        for item in s3.list_objects_v2(Bucket="failures")["Contents"]
    ]

    # THEN the copy holds the value, no line but the handler's own carries it, and the libraries
    # wrote no line (botocore logs S3's body as a file object, so only that last check tells a
    # quietened botocore from one that logs the whole request)
    assert result.response == {"batchItemFailures": []}
    assert copies == [1]
    assert _leaks(lines) == []
    assert _library_debug(lines) == []
