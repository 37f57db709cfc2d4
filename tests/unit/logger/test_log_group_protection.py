"""The logger's log group can be protected from deletion (``log_deletion_protection``): off by
default, and then left out of the template, as CloudFormation's default is."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb

from stacks.table_stream_logger import LogOptions, NewTable, TableStreamLogger
from tests.unit.logger.test_field_index import log_group

NewStack = Callable[[], cdk.Stack]
PK = dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING)


def test_the_log_group_is_not_protected_by_default(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=PK))

    assert "DeletionProtectionEnabled" not in log_group(stack)


def test_a_protected_log_group_refuses_deletion_and_is_still_retained(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=PK), log=LogOptions(deletion_protection=True))

    assert log_group(stack)["DeletionProtectionEnabled"] is True
    (group,) = assertions.Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values()
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Retain", "Retain")
