"""Customer-managed keys for every copy of the data: the failure bucket or queue a construct
builds (``failure_encryption_key``), the archive (``archive_encryption_key``), the alerts' log
group (``log_encryption_key``); each writer granted exactly what it needs to write with the key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from stacks.table_stream_logger import (
    ArchiveOptions,
    ChangeAlerts,
    FailureOptions,
    LogOptions,
    NewTable,
    RisesAbove,
    TableStreamLogger,
)

NewStack = Callable[[], cdk.Stack]
ID = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)


def key_arn(template: assertions.Template) -> dict[str, Any]:
    (key,) = template.find_resources("AWS::KMS::Key")
    return {"Fn::GetAtt": [key, "Arn"]}


def kms_encryption(key: dict[str, Any]) -> dict[str, Any]:
    """A bucket's BucketEncryption with the key, SSE-KMS and an S3 bucket key."""
    default = {"KMSMasterKeyID": key, "SSEAlgorithm": "aws:kms"}
    return {"ServerSideEncryptionConfiguration": [{"BucketKeyEnabled": True, "ServerSideEncryptionByDefault": default}]}


def statements_on(template: assertions.Template, resource: dict[str, Any]) -> dict[str, list[Any]]:
    """The actions each policy of the template grants on ``resource``, by policy logical ID."""
    found: dict[str, list[Any]] = {}
    for name, policy in template.find_resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] == resource:
                found.setdefault(name, []).append(statement["Action"])
    return found


def test_the_built_failure_bucket_uses_the_key_and_the_role_may_generate_data_keys(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(
        stack,
        "Logger",
        new_table=NewTable(partition_key=ID),
        failure=FailureOptions(encryption_key=kms.Key(stack, "Key")),
    )

    template = assertions.Template.from_stack(stack)

    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "BucketKeyEnabled": True,
                        "ServerSideEncryptionByDefault": {
                            "KMSMasterKeyID": key_arn(template),
                            "SSEAlgorithm": "aws:kms",
                        },
                    }
                ]
            }
        },
    )
    role_policy = stack.resolve(stack.get_logical_id(logger.role.node.find_child("DefaultPolicy").node.default_child))  # type: ignore[arg-type]
    # Lambda's on-failure records and the handler's oversized copies: encrypt only, never read
    assert statements_on(template, key_arn(template)) == {role_policy: ["kms:GenerateDataKey"]}


def test_a_built_queue_uses_the_key_and_the_role_may_send_with_it(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(
        stack,
        "Logger",
        new_table=NewTable(partition_key=ID),
        failure=FailureOptions(destination_type="SQS", encryption_key=kms.Key(stack, "Key")),
    )

    template = assertions.Template.from_stack(stack)

    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": key_arn(template)})
    assert list(statements_on(template, key_arn(template)).values()) == [[["kms:Decrypt", "kms:GenerateDataKey"]]]


def test_the_alerts_built_bucket_takes_a_key_too(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Table", partition_key=ID, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
    ChangeAlerts(
        stack,
        "Alerts",
        table=table,
        rules=[RisesAbove("Stocks", 0)],
        failure=FailureOptions(encryption_key=kms.Key(stack, "Key")),
    )

    template = assertions.Template.from_stack(stack)

    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [assertions.Match.object_like({"BucketKeyEnabled": True})]
            }
        },
    )
    assert list(statements_on(template, key_arn(template)).values()) == [["kms:GenerateDataKey"]]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "bucket",
            "Give either an existing failure destination or options for a new one, not both: "
            "failure.destination was given together with failure.encryption_key.",
        ),
        (
            "table",
            "Give either an existing table or options for a new one, not both: "
            "table was given together with new_table.",
        ),
    ],
)
def test_a_key_for_nothing_built_is_refused_in_one_line(new_stack: NewStack, given: str, message: str) -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key")

    with pytest.raises(ValueError) as raised:
        if given == "bucket":
            failure = FailureOptions(destination=s3.Bucket(stack, "Mine"), encryption_key=key)
            TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID), failure=failure)
        else:
            table = dynamodb.Table(stack, "Mine", partition_key=ID, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
            TableStreamLogger(stack, "Logger", table=table, new_table=NewTable(partition_key=ID, encryption_key=key))

    assert str(raised.value) == message


@pytest.mark.parametrize(
    "option", [FailureOptions, ArchiveOptions, NewTable, LogOptions], ids=lambda kind: kind.__name__
)
def test_a_key_that_is_no_key_is_refused(option: type) -> None:
    name = {FailureOptions: "failure", ArchiveOptions: "archive", NewTable: "new_table", LogOptions: "log"}[option]
    more: dict[str, Any] = {"partition_key": ID} if option is NewTable else {}

    with pytest.raises(
        ValueError, match=rf"^{name}.encryption_key must be a KMS key \(kms.Key\(...\) or kms.Key.from_key_arn"
    ):
        option(encryption_key="alias/mine", **more)


def test_the_archive_bucket_and_athena_results_use_the_key_firehose_writes_with_it(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(
        stack,
        "Logger",
        new_table=NewTable(partition_key=ID),
        archive=ArchiveOptions(encryption_key=kms.Key(stack, "Key")),
    )
    assert logger.archive is not None
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    logger.archive.grant_query(reader)

    template = assertions.Template.from_stack(stack)

    key = key_arn(template)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "BucketKeyEnabled": True,
                        "ServerSideEncryptionByDefault": {"KMSMasterKeyID": key, "SSEAlgorithm": "aws:kms"},
                    }
                ]
            }
        },
    )
    template.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "WorkGroupConfiguration": assertions.Match.object_like(
                {
                    "ResultConfiguration": assertions.Match.object_like(
                        {"EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": key}}
                    )
                }
            )
        },
    )
    delivery = stack.resolve(
        stack.get_logical_id(logger.archive.delivery_role.node.find_child("DefaultPolicy").node.default_child)  # type: ignore[arg-type]
    )
    granted = stack.resolve(stack.get_logical_id(reader.node.find_child("DefaultPolicy").node.default_child))  # type: ignore[arg-type]
    # Firehose writes the lines; the reader reads them and writes and reads the query results
    assert statements_on(template, key) == {
        delivery: [["kms:Decrypt", "kms:GenerateDataKey"]],
        granted: [["kms:Decrypt", "kms:GenerateDataKey"]],
    }


def test_the_alerts_log_group_takes_a_key_for_itself_only(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Table", partition_key=ID, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
    alerts = ChangeAlerts(
        stack,
        "Alerts",
        table=table,
        rules=[RisesAbove("Stocks", 0)],
        log=LogOptions(encryption_key=kms.Key(stack, "Key")),
    )

    template = assertions.Template.from_stack(stack)

    template.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": key_arn(template)})
    (key,) = template.find_resources("AWS::KMS::Key").values()
    (logs_statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if "Service" in s["Principal"]]
    group = stack.resolve(stack.get_logical_id(alerts.log_group.node.default_child))  # type: ignore[arg-type]
    assert f"TestStack-{group}-*" in str(logs_statement["Condition"])
