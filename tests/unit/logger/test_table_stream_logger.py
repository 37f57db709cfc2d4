"""The TableStreamLogger construct in other configurations than the InventoryStack's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy, assertions
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from stacks.table_stream_logger import (
    HANDLER_METRICS,
    ChangeFilter,
    CustomHandler,
    FailureOptions,
    FunctionOptions,
    LogImages,
    LogLines,
    LogOptions,
    Monitoring,
    NewTable,
    StreamReading,
    TableStreamLogger,
    handler_asset_dir,
)
from stacks.table_stream_logger._core import handler_assets
from stacks.table_stream_logger._core.compliance import QUEUE_REASON

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


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def logical_id(template: assertions.Template, resource_type: str) -> str:
    (name,) = template.find_resources(resource_type)
    return name


# The statements every configuration has, in the policy's order: first the log group's,
# last the stream's. The failure destination's come in between.
def logs_statement(template: assertions.Template) -> dict[str, Any]:
    return {
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Effect": "Allow",
        "Resource": get_att(logical_id(template, "AWS::Logs::LogGroup")),
    }


def stream_statements(stream_arn: Any) -> list[dict[str, Any]]:
    return [
        {"Action": "dynamodb:ListStreams", "Effect": "Allow", "Resource": "*"},
        {
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            "Effect": "Allow",
            "Resource": stream_arn,
        },
    ]


def bucket_statements(bucket_arn: Any) -> list[dict[str, Any]]:
    """Lambda's on-failure records under aws/lambda/, the handler's oversized copies under oversized/."""
    return [
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": [
                {"Fn::Join": ["", [bucket_arn, "/aws/lambda/*"]]},
                {"Fn::Join": ["", [bucket_arn, "/oversized/*"]]},
            ],
        },
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": bucket_arn},
    ]


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
    logger = TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID))

    assert isinstance(logger.table, dynamodb.Table)
    assert logger.table.node.path == "TestStack/Logger/Table"
    assert logger.function.node.path == "TestStack/Logger/Function"
    assert logger.function.role is logger.role
    assert logger.role.node.path == "TestStack/Logger/Role"
    assert logger.log_group.node.path == "TestStack/Logger/LogGroup"
    assert isinstance(logger.failure_destination, s3.Bucket)
    assert logger.failure_destination.node.path == "TestStack/Logger/FailureBucket"
    assert sorted(logger.alarms) == ["Errors", "IteratorAge", "RecordsDropped", "RecordsParked", "Throttles"]
    assert logger.alarms["IteratorAge"].node.path == "TestStack/Logger/IteratorAgeAlarm"
    assert logger.dashboard is not None and logger.dashboard.node.path == "TestStack/Logger/Dashboard"
    assert logger.event_source_mapping.node.scope is logger.function
    assert stack.resolve(logger.stream_arn) == stack.resolve(logger.table.table_stream_arn)
    assert stack.resolve(logger.event_source_mapping.event_source_mapping_id) == stack.resolve(
        logger.event_source.event_source_mapping_id
    )


def test_built_table_without_sort_key(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID))
    template = assertions.Template.from_stack(stack)

    assert only(template, "AWS::DynamoDB::Table")["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert environment(template)["KEY_ATTRIBUTES"] == '["id"]'


def test_removal_policy_of_built_table_can_be_overridden(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID, removal_policy=RemovalPolicy.DESTROY))
    template = assertions.Template.from_stack(stack)

    template.has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"})
    # The failure bucket has its own removal policy (failure_removal_policy): still kept.
    template.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})


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
        "s3:ListBucket",
        "s3:PutObject",
    ]


def test_no_kms_permission_without_customer_managed_key(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID))
    template = assertions.Template.from_stack(stack)

    assert "kms:" not in str(policy_statements(template))


def test_settings_reach_the_function_and_the_mapping(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(
        stack,
        "Logger",
        redact=["email", "card.number"],
        new_table=NewTable(partition_key=ID),
        lines=LogLines(images="CHANGES", metrics_namespace="Orders"),
        log=LogOptions(service_name="orders", level="DEBUG", retention=cdk.aws_logs.RetentionDays.ONE_WEEK),
        function=FunctionOptions(memory_size=512, timeout=Duration.seconds(60)),
        reading=StreamReading(
            batch_size=10,
            max_batching_window=Duration.seconds(0),
            starting_position=lambda_.StartingPosition.LATEST,
            retry_attempts=2,
            max_record_age=Duration.minutes(5),
            bisect_batch_on_error=False,
            parallelization_factor=4,
        ),
    )
    template = assertions.Template.from_stack(stack)
    assert isinstance(logger.failure_destination, s3.Bucket)

    function = only(template, "AWS::Lambda::Function")
    assert function["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "orders",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "POWERTOOLS_METRICS_NAMESPACE": "Orders",
        "LOG_IMAGES": "CHANGES",
        "LOG_CONTEXT_KEYS": "ONCE",
        "REDACT_ATTRIBUTES": '["email","card.number"]',
        "KEY_ATTRIBUTES": '["id"]',
        "FAILURE_BUCKET": {"Ref": next(iter(template.find_resources("AWS::S3::Bucket")))},
    }
    assert function["LoggingConfig"]["ApplicationLogLevel"] == "DEBUG"
    assert (function["MemorySize"], function["Timeout"]) == (512, 60)
    assert only(template, "AWS::Logs::LogGroup") == {
        "RetentionInDays": 7,
        "FieldIndexPolicies": [{"Fields": ["keys.id", "event_name"]}],
    }
    mapping = only(template, "AWS::Lambda::EventSourceMapping")
    assert {key: mapping[key] for key in mapping if key not in ("EventSourceArn", "FunctionName")} == {
        "BatchSize": 10,
        "BisectBatchOnFunctionError": False,
        "DestinationConfig": {"OnFailure": {"Destination": stack.resolve(logger.failure_destination.bucket_arn)}},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumBatchingWindowInSeconds": 0,
        "MaximumRecordAgeInSeconds": 300,
        "MaximumRetryAttempts": 2,
        "MetricsConfig": {"Metrics": ["EventCount"]},
        "ParallelizationFactor": 4,
        "StartingPosition": "LATEST",
    }
    # The dashboard reads the handler's metrics where the settings make it write them.
    body = json.dumps(only(template, "AWS::CloudWatch::Dashboard")["DashboardBody"])
    assert r"[\"Orders\",\"InsertRecords\",\"service\",\"orders\"," in body


def test_own_powertools_layer_replaces_the_public_one(new_stack: NewStack) -> None:
    stack = new_stack()
    layer_arn = "arn:aws:lambda:eu-west-1:123456789012:layer:powertools:7"
    layer = lambda_.LayerVersion.from_layer_version_arn(stack, "Layer", layer_arn)
    TableStreamLogger(
        stack, "Logger", new_table=NewTable(partition_key=ID), function=FunctionOptions(powertools_layer=layer)
    )
    template = assertions.Template.from_stack(stack)

    assert only(template, "AWS::Lambda::Function")["Layers"] == [layer_arn]
    assert not [name for name in template.to_json()["Parameters"] if "powertools" in name]


# --- errors -----------------------------------------------------------------------


def test_table_and_table_props_together_is_an_error(new_stack: NewStack) -> None:
    stack = new_stack()
    table = stream_table(stack)

    with pytest.raises(ValueError, match="not both: table was given together with new_table"):
        TableStreamLogger(stack, "Logger", table=table, new_table=NewTable(partition_key=ID))


@pytest.mark.parametrize(
    "table_props",
    [
        lambda stack: {"sort_key": ID},
        lambda stack: {"removal_policy": RemovalPolicy.DESTROY},
        lambda stack: {"deletion_protection": True},
        lambda stack: {"deletion_protection": False},
        lambda stack: {"encryption_key": kms.Key(stack, "Key")},
        lambda stack: {"time_to_live_attribute": "ExpiresAt"},
    ],
)
def test_table_and_any_table_prop_is_an_error(
    new_stack: NewStack, table_props: Callable[[cdk.Stack], dict[str, Any]]
) -> None:
    stack = new_stack()
    table = stream_table(stack)
    props = table_props(stack)

    # Any option of a table to build, with a table given, is refused: it would be silently ignored.
    with pytest.raises(ValueError, match="together with new_table"):
        TableStreamLogger(stack, "Logger", table=table, new_table=NewTable(partition_key=ID, **props))


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
        "(stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)."
    )


def test_imported_table_without_stream_arn_is_told_to_import_it_with_one(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table.from_table_name(stack, "Imported", "orders")

    with pytest.raises(ValueError) as error:
        TableStreamLogger(stack, "Logger", table=table)

    # Not `stream=...`: an imported table is not built by this app.
    assert str(error.value) == (
        "The imported table TestStack/Imported has no stream ARN. Import it with the ARN of its stream "
        "(which must be enabled on the table): dynamodb.Table.from_table_attributes(..., table_stream_arn=...)."
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (lambda: {"lines": LogLines(images="OLD")}, "lines.images must be one of"),  # type: ignore[arg-type]
        (
            lambda: {"lines": LogLines(context_keys="ALWAYS")},  # type: ignore[arg-type]
            r"lines.context_keys must be one of \['ONCE', 'EVERY_LINE'\], got 'ALWAYS'",
        ),
        (lambda: {"log": LogOptions(level="VERBOSE")}, "log.level must be one of"),  # type: ignore[arg-type]
        (lambda: {"redact": "email"}, "redact must be a list"),
        (lambda: {"redact": ["email", ""]}, "redact must be a list"),
        (
            lambda: {"redact": ["card..number"]},
            r"no empty name: 'card.number', not 'card..number'\), got \['card..number'\]",
        ),
        (lambda: {"redact": [".card"]}, "redact must be a list"),
        (lambda: {"reading": StreamReading(batch_size=0)}, "^reading.batch_size must be between 1 and 10000, got 0$"),
        (lambda: {"reading": StreamReading(batch_size=10_001)}, "reading.batch_size must be between 1 and 10000"),
        (lambda: {"reading": StreamReading(max_batching_window=Duration.seconds(301))}, "reading.max_batching_window"),
        (lambda: {"reading": StreamReading(retry_attempts=-1)}, "reading.retry_attempts must be between 0 and 10000"),
        (lambda: {"reading": StreamReading(max_record_age=Duration.seconds(59))}, "reading.max_record_age"),
        (lambda: {"reading": StreamReading(max_record_age=Duration.days(8))}, "reading.max_record_age"),
        (
            lambda: {"reading": StreamReading(parallelization_factor=11)},
            "reading.parallelization_factor must be between 1 and 10",
        ),
    ],
)
def test_invalid_setting_is_an_error(new_stack: NewStack, options: Callable[[], dict[str, Any]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TableStreamLogger(new_stack(), "Logger", new_table=NewTable(partition_key=ID), **options())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            lambda: {"failure": FailureOptions(destination_type="SNS")},  # type: ignore[arg-type]
            r"failure.destination_type must be one of \['S3', 'SQS'\], got 'SNS'",
        ),
        (
            lambda: {"failure": FailureOptions(retention=Duration.hours(36))},
            "failure.retention of a bucket must be a whole number of days",
        ),
        (
            lambda: {"failure": FailureOptions(retention=Duration.days(0))},
            "failure.retention of a bucket must be a whole number of days",
        ),
        (
            lambda: {"failure": FailureOptions(destination_type="SQS", retention=Duration.days(15))},
            "failure.retention of a queue must be between 60 seconds and 14 days",
        ),
        (
            lambda: {"failure": FailureOptions(destination_type="SQS", retention=Duration.seconds(59))},
            "failure.retention of a queue must be between 60 seconds and 14 days",
        ),
        (
            lambda: {"monitoring": Monitoring(iterator_age_threshold=Duration.seconds(0))},
            "monitoring.iterator_age_threshold must be positive",
        ),
    ],
)
def test_invalid_failure_or_alarm_setting_is_an_error(
    new_stack: NewStack, options: Callable[[], dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TableStreamLogger(new_stack(), "Logger", new_table=NewTable(partition_key=ID), **options())


@pytest.mark.parametrize(
    "props",
    [
        {"destination_type": "S3"},
        {"destination_type": "SQS"},
        {"retention": Duration.days(7)},
        {"removal_policy": RemovalPolicy.DESTROY},
    ],
)
def test_given_destination_and_props_for_a_built_one_is_an_error(new_stack: NewStack, props: dict[str, Any]) -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Parked")

    with pytest.raises(ValueError, match=f"failure.destination was given together with failure.{next(iter(props))}"):
        TableStreamLogger(
            stack, "Logger", new_table=NewTable(partition_key=ID), failure=FailureOptions(destination=bucket, **props)
        )


def test_failure_destination_that_is_neither_bucket_nor_queue_is_an_error(new_stack: NewStack) -> None:
    stack = new_stack()
    topic = sns.Topic(stack, "Topic")

    with pytest.raises(ValueError, match=r"failure\.destination must be an S3 bucket or an SQS queue"):
        TableStreamLogger(
            stack,
            "Logger",
            new_table=NewTable(partition_key=ID),
            failure=FailureOptions(destination=topic),  # type: ignore[arg-type]
        )


def test_alarm_action_without_alarms_is_an_error(new_stack: NewStack) -> None:
    stack = new_stack()
    action = cloudwatch_actions.SnsAction(sns.Topic(stack, "Topic"))

    with pytest.raises(ValueError, match=r"monitoring.alarm_action was given with monitoring.alarms=False"):
        TableStreamLogger(
            stack,
            "Logger",
            new_table=NewTable(partition_key=ID),
            monitoring=Monitoring(alarms=False, alarm_action=action),
        )


# --- table: encryption and deletion protection ----------------------------------------


def test_encryption_key_encrypts_the_built_table_and_grants_decrypt_on_that_key_only(new_stack: NewStack) -> None:
    stack = new_stack()
    key = kms.Key(stack, "TableKey", enable_key_rotation=True)
    logger = TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID, encryption_key=key))
    template = assertions.Template.from_stack(stack)
    key_id = logical_id(template, "AWS::KMS::Key")
    bucket_id = logical_id(template, "AWS::S3::Bucket")

    assert logger.table.encryption_key is key
    assert only(template, "AWS::DynamoDB::Table")["SSESpecification"] == {
        "KMSMasterKeyId": get_att(key_id),
        "SSEEnabled": True,
        "SSEType": "KMS",
    }
    assert policy_statements(template) == [
        logs_statement(template),
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": get_att(key_id)},
        *bucket_statements(get_att(bucket_id)),
        *stream_statements(get_att(logical_id(template, "AWS::DynamoDB::Table"), "StreamArn")),
    ]


def test_built_table_is_encrypted_with_an_aws_owned_key_by_default(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID))
    template = assertions.Template.from_stack(stack)

    assert "SSESpecification" not in only(template, "AWS::DynamoDB::Table")
    template.resource_count_is("AWS::KMS::Key", 0)


def test_deletion_protection_of_built_table(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID, deletion_protection=True))
    template = assertions.Template.from_stack(stack)

    assert only(template, "AWS::DynamoDB::Table")["DeletionProtectionEnabled"] is True


def test_time_to_live_attribute_turns_on_ttl_of_the_built_table(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID, time_to_live_attribute="ExpiresAt"))
    template = assertions.Template.from_stack(stack)

    assert only(template, "AWS::DynamoDB::Table")["TimeToLiveSpecification"] == {
        "AttributeName": "ExpiresAt",
        "Enabled": True,
    }


def test_no_ttl_unless_asked(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID))

    assert "TimeToLiveSpecification" not in only(assertions.Template.from_stack(stack), "AWS::DynamoDB::Table")


@pytest.mark.parametrize("name", ["", 5])
def test_time_to_live_attribute_must_be_a_name(new_stack: NewStack, name: Any) -> None:
    with pytest.raises(
        ValueError, match=f"new_table.time_to_live_attribute must be the name of a number attribute.* {name!r}"
    ):
        TableStreamLogger(new_stack(), "Logger", new_table=NewTable(partition_key=ID, time_to_live_attribute=name))


# --- failure destination ----------------------------------------------------------------


def test_failure_bucket_retention_and_removal_policy_can_be_set(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(
        stack,
        "Logger",
        new_table=NewTable(partition_key=ID),
        failure=FailureOptions(retention=Duration.days(7), removal_policy=RemovalPolicy.DESTROY),
    )
    template = assertions.Template.from_stack(stack)
    (bucket,) = template.find_resources("AWS::S3::Bucket").values()

    assert bucket["Properties"]["LifecycleConfiguration"]["Rules"][0] == {
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        "ExpirationInDays": 7,
        "Id": "ExpireParkedBatches",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
        "Status": "Enabled",
    }
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Delete", "Delete")
    # DESTROY deletes an empty bucket; nothing is added to empty it (no auto-delete function).
    template.resource_count_is("AWS::Lambda::Function", 1)
    assert not [r for r in template.to_json()["Resources"].values() if r["Type"].startswith("Custom::")]


def test_sqs_failure_destination_builds_a_queue_instead_of_a_bucket(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(
        stack,
        "Logger",
        new_table=NewTable(partition_key=ID),
        failure=FailureOptions(destination_type="SQS", retention=Duration.days(4)),
    )
    template = assertions.Template.from_stack(stack)
    queue_id = logical_id(template, "AWS::SQS::Queue")

    assert isinstance(logger.failure_destination, sqs.Queue)
    assert logger.failure_destination.node.path == "TestStack/Logger/FailureQueue"
    template.resource_count_is("AWS::S3::Bucket", 0)
    assert template.find_resources("AWS::SQS::Queue") == {
        queue_id: {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": 4 * 24 * 3600, "SqsManagedSseEnabled": True},
            "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_27", "comment": QUEUE_REASON}]}},
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
    }
    assert only(template, "AWS::SQS::QueuePolicy") == {
        "PolicyDocument": {
            "Statement": [
                {
                    "Action": "sqs:*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Resource": get_att(queue_id),
                }
            ],
            "Version": "2012-10-17",
        },
        "Queues": [{"Ref": queue_id}],
    }
    assert only(template, "AWS::Lambda::EventSourceMapping")["DestinationConfig"] == {
        "OnFailure": {"Destination": get_att(queue_id)}
    }
    assert policy_statements(template) == [
        logs_statement(template),
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": get_att(queue_id)},
        *stream_statements(get_att(logical_id(template, "AWS::DynamoDB::Table"), "StreamArn")),
    ]


def test_sqs_failure_queue_keeps_14_days_by_default(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(
        stack, "Logger", new_table=NewTable(partition_key=ID), failure=FailureOptions(destination_type="SQS")
    )
    template = assertions.Template.from_stack(stack)

    assert only(template, "AWS::SQS::Queue")["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_given_bucket_is_used_and_nothing_else_is_built(new_stack: NewStack) -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Parked", enforce_ssl=True)
    logger = TableStreamLogger(
        stack, "Logger", new_table=NewTable(partition_key=ID), failure=FailureOptions(destination=bucket)
    )
    template = assertions.Template.from_stack(stack)
    bucket_id = logical_id(template, "AWS::S3::Bucket")

    assert logger.failure_destination is bucket
    assert bucket_id.startswith("Parked")  # the only bucket: no orphan one of the construct's
    template.resource_count_is("AWS::SQS::Queue", 0)
    assert only(template, "AWS::Lambda::EventSourceMapping")["DestinationConfig"] == {
        "OnFailure": {"Destination": get_att(bucket_id)}
    }
    assert policy_statements(template)[1:3] == bucket_statements(get_att(bucket_id))


def test_given_queue_is_used_and_nothing_else_is_built(new_stack: NewStack) -> None:
    stack = new_stack()
    queue = sqs.Queue(stack, "Parked", encryption=sqs.QueueEncryption.SQS_MANAGED)
    logger = TableStreamLogger(
        stack, "Logger", new_table=NewTable(partition_key=ID), failure=FailureOptions(destination=queue)
    )
    template = assertions.Template.from_stack(stack)
    queue_id = logical_id(template, "AWS::SQS::Queue")

    assert logger.failure_destination is queue
    assert queue_id.startswith("Parked")
    template.resource_count_is("AWS::S3::Bucket", 0)
    assert policy_statements(template)[1] == {
        "Action": "sqs:SendMessage",
        "Effect": "Allow",
        "Resource": get_att(queue_id),
    }


def test_imported_bucket_is_granted_by_its_arn(new_stack: NewStack) -> None:
    stack = new_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Parked", "parked-batches")
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID), failure=FailureOptions(destination=bucket))
    template = assertions.Template.from_stack(stack)

    template.resource_count_is("AWS::S3::Bucket", 0)
    arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::parked-batches"]]}
    assert policy_statements(template)[1:3] == [
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": [
                {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::parked-batches/aws/lambda/*"]]},
                {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::parked-batches/oversized/*"]]},
            ],
        },
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": arn},
    ]


def test_given_kms_bucket_adds_generate_data_key_on_its_key(new_stack: NewStack) -> None:
    stack = new_stack()
    key = kms.Key(stack, "BucketKey", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Parked", encryption_key=key, encryption=s3.BucketEncryption.KMS)
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID), failure=FailureOptions(destination=bucket))
    template = assertions.Template.from_stack(stack)

    assert policy_statements(template)[1:4] == [
        *bucket_statements(get_att(logical_id(template, "AWS::S3::Bucket"))),
        {
            "Action": "kms:GenerateDataKey",
            "Effect": "Allow",
            "Resource": get_att(logical_id(template, "AWS::KMS::Key")),
        },
    ]


def test_given_kms_queue_adds_decrypt_and_generate_data_key_on_its_key(new_stack: NewStack) -> None:
    stack = new_stack()
    key = kms.Key(stack, "QueueKey", enable_key_rotation=True)
    queue = sqs.Queue(stack, "Parked", encryption_master_key=key)
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID), failure=FailureOptions(destination=queue))
    template = assertions.Template.from_stack(stack)

    assert policy_statements(template)[1:3] == [
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": get_att(logical_id(template, "AWS::SQS::Queue"))},
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Effect": "Allow",
            "Resource": get_att(logical_id(template, "AWS::KMS::Key")),
        },
    ]


# --- monitoring -------------------------------------------------------------------------


def test_dashboard_reads_the_metrics_the_handler_writes() -> None:
    import stream_logger  # the handler, imported as Lambda imports it

    assert (*stream_logger.METRIC_NAMES.values(), stream_logger.FAILED_METRIC) == HANDLER_METRICS


def test_alarms_can_be_switched_off(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(
        stack, "Logger", new_table=NewTable(partition_key=ID), monitoring=Monitoring(alarms=False)
    )
    template = assertions.Template.from_stack(stack)

    assert logger.alarms == {}
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    # The dashboard still graphs the mapping's metrics.
    assert only(template, "AWS::Lambda::EventSourceMapping")["MetricsConfig"] == {"Metrics": ["EventCount"]}


def test_dashboard_can_be_switched_off(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(stack, "Logger", dashboard=False, new_table=NewTable(partition_key=ID))
    template = assertions.Template.from_stack(stack)

    assert logger.dashboard is None
    template.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    template.resource_count_is("AWS::CloudWatch::Alarm", 5)


def test_without_alarms_and_dashboard_the_mapping_sends_no_metrics(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(
        stack, "Logger", dashboard=False, new_table=NewTable(partition_key=ID), monitoring=Monitoring(alarms=False)
    )
    template = assertions.Template.from_stack(stack)

    assert "MetricsConfig" not in only(template, "AWS::Lambda::EventSourceMapping")
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    template.resource_count_is("AWS::CloudWatch::Dashboard", 0)


def test_iterator_age_threshold_sets_the_alarm(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(
        stack,
        "Logger",
        new_table=NewTable(partition_key=ID),
        monitoring=Monitoring(iterator_age_threshold=Duration.minutes(5)),
    )
    template = assertions.Template.from_stack(stack)
    cfn_alarm = logger.alarms["IteratorAge"].node.default_child
    assert isinstance(cfn_alarm, cdk.CfnElement)
    alarm = template.find_resources("AWS::CloudWatch::Alarm")[stack.resolve(stack.get_logical_id(cfn_alarm))]

    assert (alarm["Properties"]["MetricName"], alarm["Properties"]["Threshold"]) == ("IteratorAge", 300_000)
    assert "over 5 minutes" in alarm["Properties"]["AlarmDescription"]
    assert '{\\"value\\":300000,\\"label\\":\\"alarm threshold\\"' in json.dumps(
        only(template, "AWS::CloudWatch::Dashboard")["DashboardBody"]
    )


def test_alarm_action_is_added_to_every_alarm_for_alarm_and_ok(new_stack: NewStack) -> None:
    stack = new_stack()
    topic = sns.Topic(stack, "OnCall")
    TableStreamLogger(
        stack,
        "Logger",
        new_table=NewTable(partition_key=ID),
        monitoring=Monitoring(alarm_action=cloudwatch_actions.SnsAction(topic)),
    )
    template = assertions.Template.from_stack(stack)
    topic_ref = {"Ref": logical_id(template, "AWS::SNS::Topic")}

    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    assert len(alarms) == 5
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [topic_ref]
        assert alarm["Properties"]["OKActions"] == [topic_ref]


# --- dependencies -----------------------------------------------------------------------


def test_function_keeps_other_dependencies_and_drops_only_the_role(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID))
    other = sqs.Queue(stack, "Other")
    logger.function.node.add_dependency(other)
    template = assertions.Template.from_stack(stack)

    (function,) = template.find_resources("AWS::Lambda::Function").values()
    assert function["DependsOn"] == sorted(
        [logical_id(template, "AWS::IAM::Policy"), logical_id(template, "AWS::SQS::Queue")]
    )


# --- your own handler -------------------------------------------------------------------


def resources_except_function_code(template: assertions.Template) -> dict[str, Any]:
    """Every resource of the template, less what a custom handler replaces and the parameters."""
    resources: dict[str, Any] = json.loads(json.dumps(template.to_json()["Resources"]))
    for resource in resources.values():
        if resource["Type"] == "AWS::Lambda::Function":
            for key in ("Code", "Handler", "Description"):
                resource["Properties"].pop(key)
    return resources


def test_own_handler_runs_instead_and_everything_else_stays(new_stack: NewStack, tmp_path: Path) -> None:
    # GIVEN the caller's own handler
    (tmp_path / "mine.py").write_text("def handler(event, context):\n    return {'batchItemFailures': []}\n")
    default_stack, custom_stack = new_stack(), new_stack()

    # WHEN one logger runs it and another the default handler
    TableStreamLogger(default_stack, "Logger", new_table=NewTable(partition_key=ID))
    TableStreamLogger(
        custom_stack,
        "Logger",
        new_table=NewTable(partition_key=ID),
        handler=CustomHandler(code=lambda_.Code.from_asset(str(tmp_path)), handler="mine.handler"),
    )
    default, custom = assertions.Template.from_stack(default_stack), assertions.Template.from_stack(custom_stack)

    # THEN only the function's code, handler and description differ: same role and grants, layer,
    # environment, mapping, failure bucket, alarms and dashboard, under the same logical IDs
    function = only(custom, "AWS::Lambda::Function")
    assert function["Handler"] == "mine.handler"
    assert function["Code"]["S3Key"] != only(default, "AWS::Lambda::Function")["Code"]["S3Key"]
    assert resources_except_function_code(custom) == resources_except_function_code(default)
    assert custom.to_json()["Parameters"] == default.to_json()["Parameters"]


@pytest.mark.parametrize("given", ["code", "handler"])
def test_code_without_handler_or_handler_without_code_is_an_error(
    new_stack: NewStack, tmp_path: Path, given: str
) -> None:
    props: dict[str, Any] = (
        {"code": lambda_.Code.from_asset(str(tmp_path))} if given == "code" else {"handler": "mine.handler"}
    )

    missing = "handler" if given == "code" else "code"

    # Your own handler is its code and its function name, together: one without the other is refused.
    with pytest.raises(TypeError, match=f"missing 1 required keyword-only argument: '{missing}'"):
        TableStreamLogger(new_stack(), "Logger", new_table=NewTable(partition_key=ID), handler=CustomHandler(**props))


def test_handler_asset_is_found_from_the_module_not_the_current_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repository_lambda = Path(__file__).resolve().parents[3] / "lambda"
    assert handler_asset_dir() == repository_lambda

    # Installed from the wheel: the handler sits in the package, one folder up from the module.
    monkeypatch.chdir(tmp_path)
    installed = tmp_path / "site-packages" / "table_stream_logger"
    (installed / "lambda").mkdir(parents=True)
    (installed / "lambda" / "stream_logger.py").touch()
    monkeypatch.setattr(handler_assets, "__file__", str(installed / "_core" / "handler_assets.py"))
    assert handler_asset_dir() == installed / "lambda"

    # Neither: a clear error rather than an asset of whatever folder is at hand.
    monkeypatch.setattr(handler_assets, "__file__", str(tmp_path / "a" / "b" / "c" / "handler_assets.py"))
    with pytest.raises(FileNotFoundError, match=r"The handler stream_logger.py of table-stream-logger is missing"):
        handler_asset_dir()


# --- stream view type ---------------------------------------------------------------------

VIEW = dynamodb.StreamViewType
BOTH = "needs the new and the old image of each change"
NEW = "needs the new image of each change"


@pytest.mark.parametrize(
    ("view_type", "log_images", "message"),
    [
        (VIEW.KEYS_ONLY, "NEW_AND_OLD", f"{BOTH}, but .* is KEYS_ONLY. Give the table a NEW_AND_OLD_IMAGES stream \\("),
        (VIEW.KEYS_ONLY, "CHANGES", f"{BOTH}, but .* is KEYS_ONLY"),
        (VIEW.KEYS_ONLY, "NEW", f"{NEW}, but .* is KEYS_ONLY. Give the table a NEW_IMAGE or NEW_AND_OLD_IMAGES"),
        (
            VIEW.NEW_IMAGE,
            "NEW_AND_OLD",
            f"{BOTH}, but .* is NEW_IMAGE. Give the table a NEW_AND_OLD_IMAGES stream, "
            "or log with lines=LogLines\\(images='NEW'\\)",
        ),
        (VIEW.NEW_IMAGE, "CHANGES", f"{BOTH}, but .* is NEW_IMAGE"),
        (VIEW.OLD_IMAGE, "NEW_AND_OLD", f"{BOTH}, but .* is OLD_IMAGE. Give the table a NEW_AND_OLD_IMAGES stream \\("),
        (VIEW.OLD_IMAGE, "CHANGES", f"{BOTH}, but .* is OLD_IMAGE"),
        (VIEW.OLD_IMAGE, "NEW", f"{NEW}, but .* is OLD_IMAGE"),
    ],
)
def test_view_type_that_cannot_deliver_the_images_is_an_error(
    new_stack: NewStack, view_type: dynamodb.StreamViewType, log_images: LogImages, message: str
) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Existing", partition_key=ID, stream=view_type)

    with pytest.raises(ValueError, match=f"^lines.images='{log_images}' {message}"):
        TableStreamLogger(stack, "Logger", table=table, lines=LogLines(images=log_images))


def test_view_type_error_says_what_to_do(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Existing", partition_key=ID, stream=VIEW.NEW_IMAGE)

    with pytest.raises(ValueError) as error:
        TableStreamLogger(stack, "Logger", table=table)

    assert str(error.value) == (
        "lines.images='NEW_AND_CHANGES' needs the new and the old image of each change, but the stream of "
        "TestStack/Existing is NEW_IMAGE. Give the table a NEW_AND_OLD_IMAGES stream, or log with "
        "lines=LogLines(images='NEW') (changing a stream's view type gives the table a new stream, with a new ARN)."
    )


@pytest.mark.parametrize(
    ("view_type", "log_images"),
    [
        (VIEW.NEW_AND_OLD_IMAGES, "NEW_AND_OLD"),
        (VIEW.NEW_AND_OLD_IMAGES, "CHANGES"),
        (VIEW.NEW_AND_OLD_IMAGES, "NEW"),
        (VIEW.NEW_IMAGE, "NEW"),
    ],
)
def test_view_type_that_delivers_the_images_is_fine(
    new_stack: NewStack, view_type: dynamodb.StreamViewType, log_images: LogImages
) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Existing", partition_key=ID, stream=view_type)
    TableStreamLogger(stack, "Logger", table=table, lines=LogLines(images=log_images))

    assert environment(assertions.Template.from_stack(stack))["LOG_IMAGES"] == log_images


def test_view_type_of_an_imported_table_is_checked_when_given(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table.from_table_attributes(stack, "Imported", table_name="orders", table_stream_arn=STREAM_ARN)

    with pytest.raises(
        ValueError, match=f"^lines.images='NEW_AND_CHANGES' {BOTH}, but the stream of TestStack/Imported is KEYS_ONLY"
    ):
        TableStreamLogger(stack, "Logger", table=table, stream_view_type=VIEW.KEYS_ONLY)
    # Without stream_view_type, an imported table's view type is unknown and not checked.
    TableStreamLogger(stack, "Logger", table=table)


def test_stream_view_type_with_a_built_table_is_an_error(new_stack: NewStack) -> None:
    with pytest.raises(ValueError, match="stream_view_type describes the stream of an existing table"):
        TableStreamLogger(
            new_stack(), "Logger", stream_view_type=VIEW.NEW_AND_OLD_IMAGES, new_table=NewTable(partition_key=ID)
        )


def test_stream_view_type_that_contradicts_the_table_is_an_error(new_stack: NewStack) -> None:
    stack = new_stack()
    table = stream_table(stack)

    with pytest.raises(
        ValueError,
        match="stream_view_type=NEW_IMAGE was given, but the stream of TestStack/Existing is NEW_AND_OLD_IMAGES",
    ):
        TableStreamLogger(stack, "Logger", table=table, stream_view_type=VIEW.NEW_IMAGE)
    TableStreamLogger(stack, "Logger", table=table, stream_view_type=VIEW.NEW_AND_OLD_IMAGES)


def test_table_v2_view_type_is_read(new_stack: NewStack) -> None:
    stack = new_stack()
    good = dynamodb.TableV2(stack, "Good", partition_key=ID, dynamo_stream=VIEW.NEW_AND_OLD_IMAGES)
    keys_only = dynamodb.TableV2(stack, "KeysOnly", partition_key=ID, dynamo_stream=VIEW.KEYS_ONLY)
    no_stream = dynamodb.TableV2(stack, "NoStream", partition_key=ID)

    TableStreamLogger(stack, "Logger", table=good)
    with pytest.raises(ValueError, match="the stream of TestStack/KeysOnly is KEYS_ONLY"):
        TableStreamLogger(stack, "KeysOnlyLogger", table=keys_only)
    with pytest.raises(
        ValueError, match=r"TestStack/NoStream has no stream. .* \(dynamo_stream=dynamodb.StreamViewType"
    ):
        TableStreamLogger(stack, "NoStreamLogger", table=no_stream)


@pytest.mark.parametrize(
    ("view_type", "change_filter", "message"),
    [
        (
            VIEW.NEW_IMAGE,
            ChangeFilter(old_image_has={"Stocks": "N"}),
            "tests old_image_has, but .* is NEW_IMAGE, without old",
        ),
        (
            VIEW.OLD_IMAGE,
            ChangeFilter(new_image_has={"Stocks": "N"}),
            "tests new_image_has, but .* is OLD_IMAGE, without new",
        ),
        (VIEW.KEYS_ONLY, ChangeFilter(new_image_has={"Stocks": "N"}), "tests new_image_has, but .* is KEYS_ONLY"),
    ],
)
def test_filter_on_images_the_stream_lacks_is_an_error(
    new_stack: NewStack, tmp_path: Path, view_type: dynamodb.StreamViewType, change_filter: ChangeFilter, message: str
) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Existing", partition_key=ID, stream=view_type)

    # Even with a handler of one's own, which needs no images: the filter would drop every record.
    with pytest.raises(ValueError, match=f"^filters\\[0\\] {message}"):
        TableStreamLogger(
            stack,
            "Logger",
            table=table,
            filters=[change_filter],
            handler=CustomHandler(code=lambda_.Code.from_asset(str(tmp_path)), handler="mine.handler"),
        )


def test_own_handler_may_read_a_stream_without_images(new_stack: NewStack, tmp_path: Path) -> None:
    stack = new_stack()
    table = dynamodb.Table(stack, "Existing", partition_key=ID, stream=VIEW.KEYS_ONLY)
    TableStreamLogger(
        stack,
        "Logger",
        table=table,
        filters=[ChangeFilter(event_names=["REMOVE"], keys_equal={"id": "gone"})],
        handler=CustomHandler(code=lambda_.Code.from_asset(str(tmp_path)), handler="mine.handler"),
    )

    assert only(assertions.Template.from_stack(stack), "AWS::Lambda::Function")["Handler"] == "mine.handler"


def test_an_invalid_logger_leaves_nothing_in_the_tree(new_stack: NewStack) -> None:
    stack = new_stack()

    with pytest.raises(ValueError, match="redact"):
        TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID), redact="email")

    assert stack.node.try_find_child("Logger") is None
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=ID))
