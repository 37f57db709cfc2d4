"""The log group encrypted with a customer-managed key (log_encryption_key), and reserved concurrency."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.table_stream_logger import FunctionOptions, LogOptions, NewTable, TableStreamLogger
from stacks.table_stream_logger._core.iam_actions import LOGS_KEY_ACTIONS
from tests.conftest import CDK_CONTEXT

NewStack = Callable[[], cdk.Stack]

ID = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOG_GROUP = "LoggerLogGroup2B2DC26B"


def build(stack: cdk.Stack, **props: Any) -> assertions.Template:
    TableStreamLogger(stack, "Logger", **props, new_table=NewTable(partition_key=ID))
    return assertions.Template.from_stack(stack)


def resource(template: assertions.Template, resource_type: str) -> dict[str, Any]:
    (found,) = template.find_resources(resource_type).values()
    return dict(found)


def logs_service_statement(key_policy: dict[str, Any]) -> dict[str, Any]:
    (statement,) = (s for s in key_policy["Statement"] if "Service" in s["Principal"])
    return dict(statement)


def logical_id(construct: Construct) -> str:
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnElement)
    return cdk.Stack.of(construct).get_logical_id(resource)


def join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


def test_log_group_is_encrypted_with_the_given_key(new_stack: NewStack) -> None:
    stack = new_stack()
    key = kms.Key(stack, "LogKey", enable_key_rotation=True)

    template = build(stack, log=LogOptions(encryption_key=key))

    template.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": {"Fn::GetAtt": [logical_id(key), "Arn"]}})


def test_key_policy_lets_cloudwatch_logs_of_the_region_use_it_for_this_log_group_only(new_stack: NewStack) -> None:
    stack = new_stack()
    key = kms.Key(stack, "LogKey", enable_key_rotation=True)

    template = build(stack, log=LogOptions(encryption_key=key))

    statement = logs_service_statement(resource(template, "AWS::KMS::Key")["Properties"]["KeyPolicy"])
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": join("logs.", {"Ref": "AWS::Region"}, ".amazonaws.com")},
        "Action": sorted(LOGS_KEY_ACTIONS),
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": join(
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":logs:",
                    {"Ref": "AWS::Region"},
                    ":",
                    {"Ref": "AWS::AccountId"},
                    # The name CloudFormation generates: <stack name>-<logical ID>-<random suffix>.
                    f":log-group:TestStack-{LOG_GROUP}-*",
                )
            }
        },
    }


def test_key_policy_does_not_refer_to_the_log_group_which_refers_to_the_key(new_stack: NewStack) -> None:
    # A Ref or GetAtt of the log group in the key policy would be a circular dependency.
    stack = new_stack()
    key = kms.Key(stack, "LogKey", enable_key_rotation=True)

    template = build(stack, log=LogOptions(encryption_key=key))

    key_resource = json.dumps(resource(template, "AWS::KMS::Key"))
    assert LOG_GROUP in key_resource  # as part of the name pattern only
    assert f'"Fn::GetAtt": ["{LOG_GROUP}"' not in key_resource
    assert f'"Ref": "{LOG_GROUP}"' not in key_resource
    assert "DependsOn" not in resource(template, "AWS::KMS::Key")


def test_function_role_grants_are_unchanged_by_the_log_key(new_stack: NewStack) -> None:
    # CloudWatch Logs encrypts with its own access to the key: the writer needs no KMS permission.
    without = build(new_stack())
    stack = new_stack()
    with_key = build(stack, log=LogOptions(encryption_key=kms.Key(stack, "LogKey", enable_key_rotation=True)))

    assert resource(with_key, "AWS::IAM::Policy") == resource(without, "AWS::IAM::Policy")
    assert resource(with_key, "AWS::IAM::Role") == resource(without, "AWS::IAM::Role")
    assert "kms:" not in json.dumps(resource(with_key, "AWS::IAM::Policy"))


def test_key_of_another_stack_gets_the_statement_without_a_cross_stack_reference_back() -> None:
    app = cdk.App(context=CDK_CONTEXT)
    keys = cdk.Stack(app, "Keys")
    key = kms.Key(keys, "LogKey", enable_key_rotation=True)
    logger_stack = cdk.Stack(app, "Logger")
    TableStreamLogger(logger_stack, "Logger", new_table=NewTable(partition_key=ID), log=LogOptions(encryption_key=key))

    key_template = assertions.Template.from_stack(keys)

    statement = logs_service_statement(resource(key_template, "AWS::KMS::Key")["Properties"]["KeyPolicy"])
    pattern = json.dumps(statement["Condition"])
    assert f":log-group:Logger-{LOG_GROUP}-*" in pattern
    assert "Fn::ImportValue" not in json.dumps(key_template.to_json())
    assert logger_stack.dependencies == [keys]


def test_default_log_group_uses_cloudwatch_logs_encryption(new_stack: NewStack) -> None:
    template = build(new_stack())

    assert "KmsKeyId" not in resource(template, "AWS::Logs::LogGroup")["Properties"]
    assert template.find_resources("AWS::KMS::Key") == {}


def test_imported_key_is_used_and_a_warning_says_its_policy_is_yours(new_stack: NewStack) -> None:
    stack = new_stack()

    template = build(stack, log=LogOptions(encryption_key=kms.Key.from_key_arn(stack, "LogKey", KEY_ARN)))

    template.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": KEY_ARN})
    warnings = assertions.Annotations.from_stack(stack).find_warning(
        "/TestStack/Logger/LogGroup", assertions.Match.string_like_regexp("imported key")
    )
    assert len(warnings) == 1
    assert "logs.<region>.amazonaws.com" in str(warnings[0].entry.data)


def test_log_key_that_is_not_a_key_is_an_error(new_stack: NewStack) -> None:
    with pytest.raises(ValueError, match=r"^log.encryption_key must be a KMS key .*, got 'arn:aws:kms:"):
        TableStreamLogger(
            new_stack(),
            "Logger",
            new_table=NewTable(partition_key=ID),
            log=LogOptions(encryption_key=KEY_ARN),  # type: ignore[arg-type]
        )


def test_reserved_concurrency_is_set_on_the_function(new_stack: NewStack) -> None:
    template = build(new_stack(), function=FunctionOptions(reserved_concurrent_executions=4))

    template.has_resource_properties("AWS::Lambda::Function", {"ReservedConcurrentExecutions": 4})


def test_no_reserved_concurrency_by_default(new_stack: NewStack) -> None:
    template = build(new_stack())

    assert "ReservedConcurrentExecutions" not in resource(template, "AWS::Lambda::Function")["Properties"]


@pytest.mark.parametrize("value", [0, -1])
def test_reserved_concurrency_below_one_is_an_error(new_stack: NewStack, value: int) -> None:
    with pytest.raises(
        ValueError, match=rf"^function.reserved_concurrent_executions must be at least 1, got {value}: "
    ):
        TableStreamLogger(
            new_stack(),
            "Logger",
            new_table=NewTable(partition_key=ID),
            function=FunctionOptions(reserved_concurrent_executions=value),
        )
