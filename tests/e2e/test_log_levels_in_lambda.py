"""At every log_level, exactly the intended lines reach the log, with the functions run as Lambda runs them.

For each allowed ``log_level`` a stack with the logger and the alerts on its table is
synthesized; each function's asset is run from the cloud assembly under awslambdaric with the
environment Lambda derives from the template (``AWS_LAMBDA_LOG_LEVEL`` from its LoggingConfig,
which Powertools obeys over ``POWERTOOLS_LOG_LEVEL``), and Lambda's log-level filter
(``local.lambda_logs``) is applied to what the process wrote. Nothing here sets a level by hand.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb

from local import backend
from local.lambda_logs import kept
from local.stack_model import FunctionSettings
from local.template import load, read
from stacks.table_stream_logger import ChangeAlerts, LogLevel, LogOptions, NewTable, RisesAbove, TableStreamLogger
from stacks.table_stream_logger.operations.lambda_runtime import LambdaRuntime
from tests.conftest import CDK_CONTEXT
from tests.unit.handler.conftest import load_event

LEVELS: tuple[LogLevel, ...] = ("DEBUG", "INFO", "WARN", "ERROR")
# A value only an item holds: it must never show in a library's debug output.
SECRET = "4111-SECRET-CARD"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One stack per log_level, the logger and the alerts on its table, synthesized once."""
    outdir = tmp_path_factory.mktemp("cdk.out-levels")
    app = cdk.App(context=CDK_CONTEXT, outdir=str(outdir))
    for level in LEVELS:
        stack = cdk.Stack(app, f"Level{level.title()}")
        logger = TableStreamLogger(
            stack,
            "Logger",
            new_table=NewTable(
                partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
            ),
            log=LogOptions(level=level),
        )
        # With the image in the message (the secret with it), so that botocore logging the body would show it.
        ChangeAlerts(
            stack,
            "Alerts",
            table=logger.table,
            rules=[RisesAbove("Stocks", 0)],
            include_image=True,
            log=LogOptions(level=level),
        )
    app.synth()
    return outdir


def batch() -> dict[str, Any]:
    """A restock (0 → 5, the alert's rule), then a record no handler can read: a change line and an error."""
    event = load_event("tutorial_modify")
    (restock,) = event["Records"]
    restock["dynamodb"]["OldImage"]["Stocks"] = {"N": "0"}
    restock["dynamodb"]["NewImage"]["Stocks"] = {"N": "5"}
    restock["dynamodb"]["NewImage"]["Card"] = {"S": SECRET}
    bad = copy.deepcopy(restock)
    bad["dynamodb"]["SequenceNumber"] = "999"
    bad["dynamodb"]["OldImage"]["Stocks"] = {"N": "0"}
    bad["dynamodb"]["NewImage"]["Stocks"] = {"N": "many"}
    event["Records"] = [restock, bad]
    return event


def kind(line: str) -> str:
    """What a line is: the invocation's summary, a change, a notification, an error, metrics."""
    try:
        entry = json.loads(line)
    except ValueError:
        return f"text: {line}"
    if "_aws" in entry:
        return "metrics"
    if entry.get("level") == "ERROR":
        return "error"
    if "record_count" in entry:
        return "invocation"
    if "event_name" in entry:
        return "change"
    if str(entry.get("message", "")).startswith("Published: "):
        return "notification"
    return f"other: {line}"


def run(function: FunctionSettings, name: str, services: backend.LocalServices) -> list[str]:
    """Invoke the function's asset with the batch; the lines Lambda sends to its log group."""
    environment = dict(function.environment)
    if "TOPIC_ARN" in environment:
        environment["TOPIC_ARN"] = services.client("sns").create_topic(Name=f"{name}-topic")["TopicArn"]
    with LambdaRuntime(
        function.config(name, "us-east-1", environment), environment=services.function_environment
    ) as runtime:
        result = runtime.invoke(batch())
    assert result.error is None, result.lines
    assert result.response == {"batchItemFailures": [{"itemIdentifier": "999"}]}
    return [line for line in result.lines if kept(line, function.application_log_level)]


@pytest.mark.parametrize(
    ("log_level", "logger_kinds", "alerts_kinds"),
    [
        ("DEBUG", ["invocation", "change", "error", "metrics"], ["notification", "error"]),
        ("INFO", ["invocation", "change", "error", "metrics"], ["notification", "error"]),
        ("WARN", ["error", "metrics"], ["error"]),
        ("ERROR", ["error", "metrics"], ["error"]),
    ],
)
def test_exactly_the_intended_lines_reach_the_log(
    assembly: Path, log_level: str, logger_kinds: list[str], alerts_kinds: list[str]
) -> None:
    stack_name = f"Level{log_level.title()}"
    model = read(load(assembly / f"{stack_name}.template.json"), stack_name, assembly)
    (alerts,) = model.others
    with backend.local_services("us-east-1") as services:
        logged = run(model.function, f"{stack_name}-Logger", services)
        alerted = run(alerts.function, f"{stack_name}-Alerts", services)

    # THEN each function's log gets exactly the lines intended at its log_level (the dashboard's
    # metrics line at every level), and no library line
    assert [kind(line) for line in logged] == logger_kinds
    assert [kind(line) for line in alerted] == alerts_kinds
    # AND the item's data is only where the change log puts it: not in an error, a notification
    # line or any library's debug output, at any level
    assert all(SECRET not in line for line in alerted)
    assert all(SECRET not in line for line in logged if kind(line) != "change")
