"""The logger's log group indexes the fields a history query filters on (``filterIndex``), in the
Standard class only: an Infrequent Access group has no field indexes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs

from stacks.table_stream_logger import LogOptions, NewTable, TableStreamLogger
from stacks.table_stream_logger._core.queries import history_index_fields

NewStack = Callable[[], cdk.Stack]
PK = dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING)
SK = dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.NUMBER)


def log_group(stack: cdk.Stack) -> dict[str, Any]:
    (group,) = assertions.Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values()
    properties: dict[str, Any] = group["Properties"]
    return properties


def test_the_key_fields_and_event_name_are_indexed(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=PK, sort_key=SK))

    assert log_group(stack)["FieldIndexPolicies"] == [{"Fields": ["keys.PK", "keys.SK", "event_name"]}]


def test_a_redacted_key_is_not_indexed(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", redact=["SK"], new_table=NewTable(partition_key=PK, sort_key=SK))

    assert log_group(stack)["FieldIndexPolicies"] == [{"Fields": ["keys.PK", "event_name"]}]


def test_an_infrequent_access_group_has_no_index_policy(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(
        stack,
        "Logger",
        dashboard=False,
        new_table=NewTable(partition_key=PK),
        log=LogOptions(group_class=logs.LogGroupClass.INFREQUENT_ACCESS),
    )

    assert "FieldIndexPolicies" not in log_group(stack)
    assert log_group(stack)["LogGroupClass"] == "INFREQUENT_ACCESS"


def test_an_imported_table_of_unknown_keys_indexes_event_name() -> None:
    assert history_index_fields(None) == ["event_name"]
    assert history_index_fields(["PK", "SK"], ["SK.part", "Owner"]) == ["keys.PK", "event_name"]
