"""The TableStreamLogger construct in other configurations than the InventoryStack's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy, assertions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_

from stacks.table_stream_logger import TableStreamLogger

NewStack = Callable[[], cdk.Stack]

ID = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"


def only(template: assertions.Template, resource_type: str) -> dict[str, Any]:
    """The properties of the one resource of a type."""
    (resource,) = template.find_resources(resource_type).values()
    properties: dict[str, Any] = resource["Properties"]
    return properties


def environment(template: assertions.Template) -> dict[str, str]:
    variables: dict[str, str] = only(template, "AWS::Lambda::Function")["Environment"]["Variables"]
    return variables


def policy_statements(template: assertions.Template) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = only(template, "AWS::IAM::Policy")["PolicyDocument"]["Statement"]
    return statements


def stream_table(stack: cdk.Stack, **props: Any) -> dynamodb.Table:
    return dynamodb.Table(
        stack,
        "Existing",
        partition_key=ID,
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        **props,
    )


def test_exposes_what_it_built(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(stack, "Logger", partition_key=ID)

    assert isinstance(logger.table, dynamodb.Table)
    assert logger.table.node.path == "TestStack/Logger/Table"
    assert logger.function.node.path == "TestStack/Logger/Function"
    assert logger.function.role is logger.role
    assert logger.role.node.path == "TestStack/Logger/Role"
    assert logger.log_group.node.path == "TestStack/Logger/LogGroup"
    assert logger.failure_destination.node.path == "TestStack/Logger/FailureQueue"
    assert logger.event_source_mapping.node.scope is logger.function
    assert stack.resolve(logger.stream_arn) == stack.resolve(logger.table.table_stream_arn)
    assert stack.resolve(logger.event_source_mapping.event_source_mapping_id) == stack.resolve(
        logger.event_source.event_source_mapping_id
    )


def test_built_table_without_sort_key(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", partition_key=ID)
    template = assertions.Template.from_stack(stack)

    assert only(template, "AWS::DynamoDB::Table")["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert environment(template)["KEY_ATTRIBUTES"] == '["id"]'


def test_removal_policy_of_built_table_can_be_overridden(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", partition_key=ID, removal_policy=RemovalPolicy.DESTROY)
    template = assertions.Template.from_stack(stack)

    template.has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"})


def test_existing_table_is_used_not_built(new_stack: NewStack) -> None:
    stack = new_stack()
    table = stream_table(stack)
    logger = TableStreamLogger(stack, "Logger", table=table)
    template = assertions.Template.from_stack(stack)

    assert logger.table is table
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    assert only(template, "AWS::Lambda::EventSourceMapping")["EventSourceArn"] == stack.resolve(table.table_stream_arn)
    assert environment(template)["KEY_ATTRIBUTES"] == '["id"]'


def test_imported_table_with_stream_arn(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table.from_table_attributes(stack, "Imported", table_name="orders", table_stream_arn=STREAM_ARN)
    TableStreamLogger(stack, "Logger", table=table)
    template = assertions.Template.from_stack(stack)

    template.resource_count_is("AWS::DynamoDB::Table", 0)
    assert only(template, "AWS::Lambda::EventSourceMapping")["EventSourceArn"] == STREAM_ARN
    # The key names of an imported table are unknown; the handler then sorts them.
    assert "KEY_ATTRIBUTES" not in environment(template)
    assert policy_statements(template)[-2:] == [
        {"Action": "dynamodb:ListStreams", "Effect": "Allow", "Resource": "*"},
        {
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ],
            "Effect": "Allow",
            "Resource": STREAM_ARN,
        },
    ]


def test_customer_managed_key_adds_kms_decrypt_and_nothing_else(new_stack: NewStack) -> None:
    stack = new_stack()
    table = stream_table(stack, encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED)
    TableStreamLogger(stack, "Logger", table=table)
    template = assertions.Template.from_stack(stack)

    key_id = next(iter(template.find_resources("AWS::KMS::Key")))
    function_actions = sorted(
        action
        for statement in policy_statements(template)
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    )
    assert {
        "Action": "kms:Decrypt",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
    } in policy_statements(template)
    assert function_actions == [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:SendMessage",
    ]


def test_no_kms_permission_without_customer_managed_key(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", partition_key=ID)
    template = assertions.Template.from_stack(stack)

    assert "kms:" not in str(policy_statements(template))


def test_settings_reach_the_function_and_the_mapping(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(
        stack,
        "Logger",
        partition_key=ID,
        service_name="orders",
        log_level="DEBUG",
        log_retention=cdk.aws_logs.RetentionDays.ONE_WEEK,
        log_images="CHANGES",
        redact=["email", "card.number"],
        memory_size=512,
        timeout=Duration.seconds(60),
        metrics_namespace="Orders",
        batch_size=10,
        max_batching_window=Duration.seconds(0),
        starting_position=lambda_.StartingPosition.LATEST,
        retry_attempts=2,
        max_record_age=Duration.minutes(5),
        bisect_batch_on_error=False,
        parallelization_factor=4,
    )
    template = assertions.Template.from_stack(stack)

    function = only(template, "AWS::Lambda::Function")
    assert function["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "orders",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "POWERTOOLS_METRICS_NAMESPACE": "Orders",
        "LOG_IMAGES": "CHANGES",
        "REDACT_ATTRIBUTES": '["email","card.number"]',
        "KEY_ATTRIBUTES": '["id"]',
    }
    assert function["LoggingConfig"]["ApplicationLogLevel"] == "DEBUG"
    assert (function["MemorySize"], function["Timeout"]) == (512, 60)
    assert only(template, "AWS::Logs::LogGroup") == {"RetentionInDays": 7}
    mapping = only(template, "AWS::Lambda::EventSourceMapping")
    assert {key: mapping[key] for key in mapping if key not in ("EventSourceArn", "FunctionName")} == {
        "BatchSize": 10,
        "BisectBatchOnFunctionError": False,
        "DestinationConfig": {"OnFailure": {"Destination": stack.resolve(logger.failure_destination.queue_arn)}},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumBatchingWindowInSeconds": 0,
        "MaximumRecordAgeInSeconds": 300,
        "MaximumRetryAttempts": 2,
        "ParallelizationFactor": 4,
        "StartingPosition": "LATEST",
    }


def test_own_powertools_layer_replaces_the_public_one(new_stack: NewStack) -> None:
    stack = new_stack()
    layer_arn = "arn:aws:lambda:eu-west-1:123456789012:layer:powertools:7"
    layer = lambda_.LayerVersion.from_layer_version_arn(stack, "Layer", layer_arn)
    TableStreamLogger(stack, "Logger", partition_key=ID, powertools_layer=layer)
    template = assertions.Template.from_stack(stack)

    assert only(template, "AWS::Lambda::Function")["Layers"] == [layer_arn]
    assert not [name for name in template.to_json()["Parameters"] if "powertools" in name]


# --- errors -----------------------------------------------------------------------


def test_table_and_table_props_together_is_an_error(new_stack: NewStack) -> None:
    stack = new_stack()
    table = stream_table(stack)

    with pytest.raises(ValueError, match="not both: table was given together with partition_key"):
        TableStreamLogger(stack, "Logger", table=table, partition_key=ID)


@pytest.mark.parametrize(
    "table_props",
    [
        {"sort_key": ID},
        {"removal_policy": RemovalPolicy.DESTROY},
    ],
)
def test_table_and_any_table_prop_is_an_error(new_stack: NewStack, table_props: dict[str, Any]) -> None:
    stack = new_stack()
    table = stream_table(stack)

    with pytest.raises(ValueError, match=f"together with {next(iter(table_props))}"):
        TableStreamLogger(stack, "Logger", table=table, **table_props)


def test_neither_table_nor_partition_key_is_an_error(new_stack: NewStack) -> None:
    with pytest.raises(ValueError, match=r"Give either an existing table \(table=...\) or"):
        TableStreamLogger(new_stack(), "Logger")


def test_existing_table_without_stream_is_an_error_that_says_what_to_do(
    new_stack: NewStack,
) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "NoStream", partition_key=ID)

    with pytest.raises(ValueError) as error:
        TableStreamLogger(stack, "Logger", table=table)

    assert str(error.value) == (
        "The table TestStack/NoStream has no stream. Enable a NEW_AND_OLD_IMAGES stream on it "
        "(stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES), or, for an imported table, give "
        "its stream ARN: dynamodb.Table.from_table_attributes(..., table_stream_arn=...)."
    )


def test_imported_table_without_stream_arn_is_an_error(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table.from_table_name(stack, "Imported", "orders")

    with pytest.raises(ValueError, match="has no stream"):
        TableStreamLogger(stack, "Logger", table=table)


@pytest.mark.parametrize(
    ("prop", "value", "message"),
    [
        ("log_images", "OLD", "log_images must be one of"),
        ("log_level", "VERBOSE", "log_level must be one of"),
        ("redact", "email", "redact must be a list"),
        ("redact", ["email", ""], "redact must be a list"),
        ("batch_size", 0, "batch_size must be between 1 and 10000"),
        ("batch_size", 10_001, "batch_size must be between 1 and 10000"),
        ("max_batching_window", Duration.seconds(301), "max_batching_window"),
        ("retry_attempts", -1, "retry_attempts must be between 0 and 10000"),
        ("max_record_age", Duration.seconds(59), "max_record_age"),
        ("max_record_age", Duration.days(8), "max_record_age"),
        ("parallelization_factor", 11, "parallelization_factor must be between 1 and 10"),
    ],
)
def test_invalid_setting_is_an_error(new_stack: NewStack, prop: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TableStreamLogger(new_stack(), "Logger", partition_key=ID, **{prop: value})
