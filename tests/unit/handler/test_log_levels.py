"""Lines that survive Lambda's own log-level filtering, at every log_level the construct allows.

Lambda's rules are encoded in ``local.lambda_logs`` (its docstring quotes the developer guide's
"Log-level filtering" page); ``make local`` filters what it prints with the same function.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from rfc3339_validator import validate_rfc3339

import stream_logger
from local import LAMBDA_DIR
from local.lambda_logs import kept, level_of
from stacks.table_stream_logger._core.function import lambda_log_level
from stacks.table_stream_logger.operations.lambda_environment import FunctionConfig
from stacks.table_stream_logger.operations.lambda_runtime import LambdaRuntime

from .conftest import invoke, load_event


@pytest.fixture
def log_level() -> Iterator[Any]:
    saved = stream_logger.logger.log_level, stream_logger.LOG_LEVEL

    def set_level(level: str) -> None:
        stream_logger.logger.setLevel(level)
        stream_logger.LOG_LEVEL = logging.getLevelName(level)

    yield set_level
    stream_logger.logger.setLevel(saved[0])
    stream_logger.LOG_LEVEL = saved[1]


def _batch() -> dict[str, Any]:
    """Two good records, then a bad one: the handler logs the good ones and reports the bad one."""
    event = load_event("all_types")
    bad = copy.deepcopy(event["Records"][0])
    bad["dynamodb"]["SequenceNumber"] = "999"
    bad["dynamodb"]["NewImage"]["Stocks"] = {"N": "many"}
    event["Records"] = [*event["Records"][:2], bad]
    return event


def _application_log_level(log_level: str) -> str:
    """What the constructs set as the function's ApplicationLogLevel for a log_level."""
    return str(lambda_log_level(log_level).value)


@pytest.mark.parametrize(
    ("setting", "kinds"),
    [
        ("DEBUG", ["invocation", "change", "change", "error", "metrics"]),
        ("INFO", ["invocation", "change", "change", "error", "metrics"]),
        ("WARN", ["error", "metrics"]),
        ("ERROR", ["error", "metrics"]),
    ],
)
def test_exactly_the_intended_lines_reach_cloudwatch(log_level: Any, setting: str, kinds: list[str]) -> None:
    # GIVEN the function configured as the construct configures it for this log_level
    log_level(setting)

    # WHEN a batch with good and bad records runs
    result = invoke(_batch())

    # THEN, after Lambda's filtering, the lines CloudWatch receives are exactly these
    received = [line for line in result.output.splitlines() if kept(line, _application_log_level(setting))]
    assert [_kind(json.loads(line)) for line in received] == kinds
    for line in received:
        entry = json.loads(line)
        assert validate_rfc3339(entry["timestamp"]), entry["timestamp"]
        assert level_of(line) == entry["level"]  # Lambda takes the line's own level


def _kind(entry: dict[str, Any]) -> str:
    if "_aws" in entry:
        return "metrics"
    if "event_name" in entry:
        return "change"
    if "record_count" in entry:
        return "invocation"
    if entry["level"] == "ERROR":
        return "error"
    return "other"


def test_every_line_of_every_kind_has_a_level_lambda_knows_and_an_rfc3339_timestamp(log_level: Any) -> None:
    log_level("DEBUG")
    outputs = [invoke(_batch()).output, invoke({"Records": []}).output]

    for line in "".join(outputs).splitlines():
        entry = json.loads(line)
        assert entry["level"] in ("DEBUG", "INFO", "WARN", "ERROR"), line
        assert validate_rfc3339(entry["timestamp"]) and entry["timestamp"].endswith("Z"), line


def test_a_warning_is_written_as_warn_and_survives_warn() -> None:
    (warning,) = [line for line in invoke({}).output.splitlines() if "no Records" in line]

    assert json.loads(warning)["level"] == "WARN"
    assert kept(warning, "WARN")


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ('{"level": "debug", "msg": "my debug log", "timestamp": "2024-11-02T16:51:31.587199Z"}', "DEBUG"),
        ('{"level": "ERROR", "timestamp": "2024-11-02T16:51:31.587Z"}', "ERROR"),
        ('{"level": "WARNING", "timestamp": "2024-11-02T16:51:31.587Z"}', "INFO"),  # not a level Lambda knows
        ('{"level": "ERROR", "timestamp": "2024-11-02 16:51:31,587+0000"}', "INFO"),  # not RFC 3339
        ('{"level": "ERROR"}', "INFO"),  # no timestamp
        ('{"timestamp": "2024-11-02T16:51:31.587Z"}', "INFO"),  # no level
        ("plain text", "INFO"),
    ],
)
def test_lambdas_rules_as_documented(line: str, level: str) -> None:
    assert level_of(line) == level


def test_the_handler_follows_the_loggers_level_for_change_lines(log_level: Any) -> None:
    log_level(logging.getLevelName(logging.WARNING))

    result = invoke(load_event("tutorial_modify"))

    assert result.records == []
    assert len(result.metrics) == 1


def _received_in_lambda(setting: str, event: Any) -> list[dict[str, Any]]:
    """The lines Lambda keeps of the handler's output, run as Lambda runs it (lambda_runtime).

    The construct keeps the application log level at INFO (DEBUG for DEBUG), so Lambda sets
    AWS_LAMBDA_LOG_LEVEL=INFO, which Powertools obeys over POWERTOOLS_LOG_LEVEL.
    """
    config = FunctionConfig(
        name="inventory-stream-logger",
        handler="stream_logger.handler",
        code=LAMBDA_DIR,
        environment={
            "POWERTOOLS_SERVICE_NAME": "inventory",
            "POWERTOOLS_LOG_LEVEL": setting,
            "KEY_ATTRIBUTES": '["PK","SK"]',
        },
        log_format="JSON",
        application_log_level=_application_log_level(setting),
    )
    with LambdaRuntime(config) as runtime:
        result = runtime.invoke(event)
    assert result.error is None, result.lines
    assert runtime.environment["AWS_LAMBDA_LOG_LEVEL"] == "INFO" or setting == "DEBUG"
    return [json.loads(line) for line in result.lines if kept(line, runtime.environment["AWS_LAMBDA_LOG_LEVEL"])]


@pytest.mark.parametrize("setting", ["WARN", "ERROR"])
def test_no_change_line_when_lambdas_own_log_level_is_info(setting: str) -> None:
    # GIVEN the function's environment in Lambda, WHEN the handler handles a MODIFY
    received = _received_in_lambda(setting, load_event("tutorial_modify"))

    # THEN Lambda lets no change line through, and the metrics line still
    assert [line for line in received if "event_name" in line] == []
    assert len([line for line in received if "_aws" in line]) == 1


@pytest.mark.parametrize(("setting", "warnings"), [("INFO", 1), ("WARN", 1), ("ERROR", 0)])
def test_the_no_records_warning_follows_log_level_when_lambdas_own_log_level_is_info(
    setting: str, warnings: int
) -> None:
    # GIVEN the function's environment in Lambda, WHEN an event without records comes
    received = _received_in_lambda(setting, {"Records": []})

    # THEN the WARN line is written below ERROR only; the metrics line always
    assert len([line for line in received if "no Records" in line.get("message", "")]) == warnings
    assert len([line for line in received if "_aws" in line]) == 1


# --- the alerts function: a line per message published, an ERROR line per failed record --------
ALERTS_PROGRAM = """
import json, sys
import change_alerts
from local.lambda_context import LambdaContext

class Sns:
    def publish(self, **arguments):
        return {"MessageId": "message-1"}

change_alerts.sns = Sns
change_alerts.handler(json.loads(sys.stdin.read()), LambdaContext(function_name="alerts"))
"""


def _alerts_batch() -> dict[str, Any]:
    """A change that fires the rule (Stocks 33 -> 32), then one that cannot be read."""
    event = load_event("tutorial_modify")
    bad = copy.deepcopy(event["Records"][0])
    bad["dynamodb"]["SequenceNumber"] = "999"
    bad["dynamodb"]["NewImage"]["Stocks"] = {"N": "many"}
    event["Records"].append(bad)
    return event


def _alerts_received_in_lambda(setting: str, event: Any) -> list[dict[str, Any]]:
    """As ``_received_in_lambda``, for the alerts handler."""
    rules = [{"name": "low", "kind": "falls_to_or_below", "attribute": "Stocks", "threshold": "32", "title": "Low"}]
    environment = {
        **os.environ,
        "POWERTOOLS_SERVICE_NAME": "change-alerts",
        "POWERTOOLS_LOG_LEVEL": setting,
        "AWS_LAMBDA_LOG_LEVEL": _application_log_level(setting),
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "ALERT_RULES": json.dumps(rules),
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
        "KEY_ATTRIBUTES": '["PK","SK"]',
        "PYTHONPATH": str(LAMBDA_DIR.parent),  # for the project's stand-in context, local.lambda_context
    }
    result = subprocess.run(
        [sys.executable, "-c", ALERTS_PROGRAM],
        input=json.dumps(event),
        env=environment,
        cwd=LAMBDA_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines() if kept(line, environment["AWS_LAMBDA_LOG_LEVEL"])]


def _alerts_kind(entry: dict[str, Any]) -> str:
    if entry["message"].startswith("Published: "):
        return "notification"
    if entry["level"] == "ERROR":
        return "error"
    return "other"


@pytest.mark.parametrize(
    ("setting", "kinds"),
    [
        ("DEBUG", ["notification", "error"]),
        ("INFO", ["notification", "error"]),
        ("WARN", ["error"]),
        ("ERROR", ["error"]),
    ],
)
def test_the_alerts_function_writes_exactly_the_intended_lines_in_lambda(setting: str, kinds: list[str]) -> None:
    # GIVEN the alerts function's environment in Lambda, as the construct configures it
    # WHEN a batch with a change that fires a rule and a bad record runs
    received = _alerts_received_in_lambda(setting, _alerts_batch())

    # THEN, after Lambda's filtering, the lines CloudWatch receives are exactly these
    assert [_alerts_kind(entry) for entry in received] == kinds
    for entry in received:
        assert validate_rfc3339(entry["timestamp"]), entry["timestamp"]


@pytest.mark.parametrize(("setting", "warnings"), [("INFO", 1), ("WARN", 1), ("ERROR", 0)])
def test_the_alerts_no_records_warning_follows_log_level_in_lambda(setting: str, warnings: int) -> None:
    received = _alerts_received_in_lambda(setting, {})

    warning_lines = [entry for entry in received if "no Records" in entry["message"]]
    assert len(warning_lines) == warnings
    assert all(entry["level"] == "WARN" for entry in warning_lines)  # not WARNING, which Lambda takes for INFO
