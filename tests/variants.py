"""The construct in other configurations than the app's, one stack each, for the compliance checks.

tests/unit/core/test_compliance.py runs cdk-nag and cfn-lint on them; tests/scan/ runs checkov
(`make scan`). The buckets, queues, topics, keys and tables built here stand in for the user's own:
their findings are acknowledged (cdk-nag) or skipped (checkov) as test fixtures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.table_stream_logger import (
    ArchiveOptions,
    Becomes,
    ChangeAlerts,
    Expires,
    FailureOptions,
    FunctionOptions,
    LogOptions,
    Monitoring,
    NewTable,
    RisesAbove,
    TableStreamLogger,
)
from stacks.table_stream_logger._core.compliance import skip_checkov

ID = dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
FIXTURE_REASON = "A test fixture, not part of the construct."


def _fixture(construct: Construct, *, nag_rule: str | None = None, checkov_check: str | None = None) -> None:
    """Acknowledge a finding on a test fixture (a resource the test stands in for the user's)."""
    if nag_rule is not None:
        Validations.of(construct).acknowledge(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-{nag_rule}", reason=FIXTURE_REASON)
        )
    if checkov_check is not None:
        skip_checkov(construct, checkov_check, FIXTURE_REASON)


def build_variants(app: cdk.App) -> None:
    def stack(name: str) -> cdk.Stack:
        return cdk.Stack(app, name)

    TableStreamLogger(
        stack("Sqs"), "Logger", new_table=NewTable(partition_key=ID), failure=FailureOptions(destination_type="SQS")
    )

    own_bucket = stack("OwnBucket")
    bucket = s3.Bucket(
        own_bucket, "Parked", enforce_ssl=True, versioned=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL
    )
    _fixture(bucket, nag_rule="S1", checkov_check="CKV_AWS_18")
    TableStreamLogger(
        own_bucket, "Logger", new_table=NewTable(partition_key=ID), failure=FailureOptions(destination=bucket)
    )

    own_queue = stack("OwnKmsQueue")
    queue_key = kms.Key(own_queue, "QueueKey", enable_key_rotation=True)
    queue = sqs.Queue(own_queue, "Parked", encryption_master_key=queue_key, enforce_ssl=True)
    _fixture(queue, nag_rule="SQS3")
    TableStreamLogger(
        own_queue, "Logger", new_table=NewTable(partition_key=ID), failure=FailureOptions(destination=queue)
    )

    # Every option that passes a check the default configuration skips.
    cmk = stack("CustomerManagedKey")
    table_key = kms.Key(cmk, "TableKey", enable_key_rotation=True)
    log_key = kms.Key(cmk, "LogKey", enable_key_rotation=True)
    topic = sns.Topic(cmk, "OnCall", enforce_ssl=True)
    _fixture(topic, checkov_check="CKV_AWS_26")
    TableStreamLogger(
        cmk,
        "Logger",
        new_table=NewTable(
            partition_key=ID,
            sort_key=dynamodb.Attribute(name="at", type=dynamodb.AttributeType.NUMBER),
            encryption_key=table_key,
            deletion_protection=True,
        ),
        log=LogOptions(encryption_key=log_key),
        function=FunctionOptions(reserved_concurrent_executions=2),
        monitoring=Monitoring(alarm_action=cloudwatch_actions.SnsAction(topic)),
    )

    archived = stack("Archive")
    TableStreamLogger(archived, "Logger", new_table=NewTable(partition_key=ID), archive=ArchiveOptions())

    existing = stack("ExistingTable")
    table = dynamodb.Table(
        existing,
        "Orders",
        partition_key=ID,
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    _fixture(table, checkov_check="CKV_AWS_119")
    TableStreamLogger(existing, "Logger", table=table, dashboard=False, monitoring=Monitoring(alarms=False))

    # The alerts beside it, the table's second reader, with the topic and bucket they build.
    ChangeAlerts(existing, "Alerts", table=table, rules=[RisesAbove("Stocks", 0), Becomes("Status", "GONE"), Expires()])

    imported = stack("Imported")
    orders = dynamodb.Table.from_table_attributes(imported, "Orders", table_name="orders", table_stream_arn=STREAM_ARN)
    TableStreamLogger(
        imported,
        "Logger",
        table=orders,
        failure=FailureOptions(destination=s3.Bucket.from_bucket_name(imported, "Parked", "parked-batches")),
    )
    on_call = sns.Topic(imported, "OnCall", enforce_ssl=True)
    _fixture(on_call, checkov_check="CKV_AWS_26")
    # The alerts on it too, with a given topic under a customer-managed key and a queue they build.
    ChangeAlerts(
        imported,
        "Alerts",
        table=orders,
        rules=[Expires()],
        topic=sns.Topic(
            imported, "Mine", master_key=kms.Key(imported, "TopicKey", enable_key_rotation=True), enforce_ssl=True
        ),
        failure=FailureOptions(destination_type="SQS"),
        monitoring=Monitoring(alarm_action=cloudwatch_actions.SnsAction(on_call)),
    )


def variant_templates(app: cdk.App) -> dict[str, dict[str, Any]]:
    """Each variant stack's template, by stack name, from an app already synthesized."""
    return {
        child.node.id: json.loads((Path(app.outdir) / f"{child.node.id}.template.json").read_text())
        for child in app.node.children
        if isinstance(child, cdk.Stack)
    }
