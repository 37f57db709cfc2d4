"""What the construct sets up for the log line: saved queries, modes, levels, the oversized copies."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs

from stacks.table_stream_logger import FailureOptions, LogLevel, LogLines, LogOptions, NewTable, TableStreamLogger
from stacks.table_stream_logger._core import queries as saved

# The docs page that shows the saved queries (Finding changes with CloudWatch Logs Insights).
LOG_FORMAT_PAGE = (Path(__file__).resolve().parents[3] / "docs" / "log-format.md").read_text()
PK = dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING)
SK = dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING)


def _resources(template: assertions.Template, type_name: str) -> dict[str, Any]:
    return dict(template.find_resources(type_name))


def test_the_app_saves_one_query_per_question_for_its_log_group(template: assertions.Template) -> None:
    definitions = _resources(template, "AWS::Logs::QueryDefinition")
    # The logger's log group; the alerts have one of their own, without queries.
    (log_group,) = [name for name in _resources(template, "AWS::Logs::LogGroup") if name.startswith("InventoryLogger")]

    by_name = {resource["Properties"]["Name"]: resource["Properties"] for resource in definitions.values()}
    expected = saved.all_queries(["PK", "SK"])
    assert sorted(by_name) == sorted(f"InventoryStack/InventoryLogger/{name}" for name in expected)
    for name, query in expected.items():
        properties = by_name[f"InventoryStack/InventoryLogger/{name}"]
        assert properties["LogGroupNames"] == [{"Ref": log_group}]
        assert properties["QueryString"] == query.to_string()
    history = by_name["InventoryStack/InventoryLogger/History of one item"]
    assert history["Parameters"] == [
        {"Name": "PK", "Description": "the item's PK"},
        {"Name": "SK", "Description": "the item's SK"},
    ]
    assert 'keys.PK = "{{PK}}" and keys.SK = "{{SK}}"' in history["QueryString"]
    assert all("Parameters" not in p for n, p in by_name.items() if not n.endswith("History of one item"))


@pytest.mark.parametrize("name", list(saved.all_queries(["PK", "SK"])))
def test_the_docs_show_each_saved_query_as_the_app_saves_it(name: str) -> None:
    query = saved.all_queries(["PK", "SK"])[name].to_string()

    assert f"```\n{query}\n```" in LOG_FORMAT_PAGE


def test_queries_read_the_fields_the_handler_writes() -> None:
    # The field names the queries use are keys of the handler's lines (see tests/unit/handler).
    text = "\n".join(query.to_string() for query in saved.all_queries(["PK", "SK"]).values())
    used = set(
        re.findall(
            r"\b(event_name|sequence_number|event_id|reason|request_id|ttl_expired|changed|changes|keys)\b", text
        )
    )
    assert used == {
        "event_name",
        "sequence_number",
        "event_id",
        "reason",
        "request_id",
        "ttl_expired",
        "changed",
        "changes",
        "keys",
    }


def test_without_known_key_names_the_queries_use_the_message(new_stack: Callable[[], cdk.Stack]) -> None:
    stack = new_stack()
    table = dynamodb.TableV2(
        stack, "Orders", partition_key=PK, dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES
    )
    TableStreamLogger(stack, "Logger", table=table)

    strings = [
        r["Properties"]["QueryString"]
        for r in _resources(assertions.Template.from_stack(stack), "AWS::Logs::QueryDefinition").values()
    ]
    assert len(strings) == 5
    assert any('@message like /"keys":\\{[^}]*"KEY_VALUE"/' in text for text in strings)
    assert not any("keys." in text for text in strings)


def test_saved_queries_can_be_turned_off(new_stack: Callable[[], cdk.Stack]) -> None:
    stack = new_stack()
    logger = TableStreamLogger(stack, "Logger", saved_queries=False, new_table=NewTable(partition_key=PK))

    assert logger.queries == []
    assert _resources(assertions.Template.from_stack(stack), "AWS::Logs::QueryDefinition") == {}


def _function(stack: cdk.Stack) -> dict[str, Any]:
    (function,) = _resources(assertions.Template.from_stack(stack), "AWS::Lambda::Function").values()
    properties: dict[str, Any] = function["Properties"]
    return properties


@pytest.mark.parametrize(
    ("log_level", "lambda_level"), [("DEBUG", "DEBUG"), ("INFO", "INFO"), ("WARN", "INFO"), ("ERROR", "INFO")]
)
def test_lambda_filters_at_info_or_below_and_the_handler_applies_log_level(
    new_stack: Callable[[], cdk.Stack], log_level: LogLevel, lambda_level: str
) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=PK), log=LogOptions(level=log_level))

    function = _function(stack)
    assert function["LoggingConfig"]["ApplicationLogLevel"] == lambda_level
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert function["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == log_level


def test_the_default_line_and_its_environment(new_stack: Callable[[], cdk.Stack]) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=PK, sort_key=SK))

    variables = _function(stack)["Environment"]["Variables"]
    assert variables["LOG_IMAGES"] == "NEW_AND_CHANGES"
    assert variables["LOG_CONTEXT_KEYS"] == "ONCE"
    (bucket,) = _resources(assertions.Template.from_stack(stack), "AWS::S3::Bucket")
    assert variables["FAILURE_BUCKET"] == {"Ref": bucket}


def test_an_sqs_destination_gives_the_handler_no_bucket(new_stack: Callable[[], cdk.Stack]) -> None:
    stack = new_stack()
    TableStreamLogger(
        stack, "Logger", new_table=NewTable(partition_key=PK), failure=FailureOptions(destination_type="SQS")
    )

    assert "FAILURE_BUCKET" not in _function(stack)["Environment"]["Variables"]


def test_every_line_context_keys_is_passed_on(new_stack: Callable[[], cdk.Stack]) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=PK), lines=LogLines(context_keys="EVERY_LINE"))

    assert _function(stack)["Environment"]["Variables"]["LOG_CONTEXT_KEYS"] == "EVERY_LINE"


@pytest.mark.parametrize(("field", "value"), [("context_keys", "SOMETIMES"), ("images", "OLD")])
def test_an_unknown_choice_is_an_error_naming_the_choices(
    new_stack: Callable[[], cdk.Stack], field: str, value: str
) -> None:
    with pytest.raises(ValueError, match=f"lines.{field} must be one of"):
        TableStreamLogger(new_stack(), "Logger", new_table=NewTable(partition_key=PK), lines=LogLines(**{field: value}))  # type: ignore[arg-type]


def test_the_default_mode_needs_both_images(new_stack: Callable[[], cdk.Stack]) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Orders", partition_key=PK, stream=dynamodb.StreamViewType.NEW_IMAGE)

    with pytest.raises(ValueError, match=r"lines\.images='NEW_AND_CHANGES' needs the new and the old image"):
        TableStreamLogger(stack, "Logger", table=table)


def test_the_queries_are_exposed(new_stack: Callable[[], cdk.Stack]) -> None:
    logger = TableStreamLogger(new_stack(), "Logger", new_table=NewTable(partition_key=PK))

    assert len(logger.queries) == 5
    assert all(isinstance(query, logs.QueryDefinition) for query in logger.queries)
