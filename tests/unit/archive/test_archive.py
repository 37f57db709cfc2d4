"""The log group's class and the change archive: every resource, policy and refusal, in the template."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Size, assertions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs

from stacks.table_stream_logger import ArchiveOptions, LogOptions, Monitoring, NewTable, TableStreamLogger
from stacks.table_stream_logger.archive.layout import (
    CHANGE_LINES_PATTERN,
    COLUMNS,
    LINES_TABLE_NAME,
    TABLE_NAME,
    athena_queries,
)
from tests.conftest import CDK_CONTEXT

NewStack = Callable[[], cdk.Stack]
PK = dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING)
SK = dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING)
STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
ARCHIVE = "LoggerArchive"


@pytest.fixture(scope="module")
def archived() -> assertions.Template:
    """A logger with the archive and its defaults, synthesized once for the module."""
    stack = cdk.Stack(cdk.App(context=CDK_CONTEXT), "Archived")
    TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=PK, sort_key=SK), archive=ArchiveOptions())
    return assertions.Template.from_stack(stack)


def resource(template: assertions.Template, resource_type: str, prefix: str = ARCHIVE) -> tuple[str, dict[str, Any]]:
    """The one resource of a type whose logical ID starts with ``prefix``: its ID and definition."""
    (found,) = (
        (name, dict(value)) for name, value in template.find_resources(resource_type).items() if name.startswith(prefix)
    )
    return found


def logical_id(template: assertions.Template, resource_type: str, prefix: str = ARCHIVE) -> str:
    return resource(template, resource_type, prefix)[0]


def properties(template: assertions.Template, resource_type: str, prefix: str = ARCHIVE) -> dict[str, Any]:
    props: dict[str, Any] = resource(template, resource_type, prefix)[1]["Properties"]
    return props


def get_att(name: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, attribute]}


def logs_arn(*tail: Any) -> dict[str, Any]:
    """``arn:<partition>:logs:<region>:<account>`` followed by ``tail``, as CDK joins it."""
    head = ["arn:", {"Ref": "AWS::Partition"}, ":logs:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}]
    return {"Fn::Join": ["", [*head, *tail]]}


def objects_under(bucket: str, prefix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [get_att(bucket), f"/{prefix}*"]]}


# --- log group class ---------------------------------------------------------------------


def test_standard_class_stays_unsaid_so_existing_groups_are_not_replaced(archived: assertions.Template) -> None:
    (group,) = (
        value["Properties"]
        for name, value in archived.find_resources("AWS::Logs::LogGroup").items()
        if name.startswith("LoggerLogGroup")
    )
    assert "LogGroupClass" not in group


def test_infrequent_access_class_reaches_the_log_group(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(
        stack,
        "Logger",
        dashboard=False,
        new_table=NewTable(partition_key=PK),
        log=LogOptions(group_class=logs.LogGroupClass.INFREQUENT_ACCESS),
    )

    assertions.Template.from_stack(stack).has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupClass": "INFREQUENT_ACCESS", "RetentionInDays": 30}
    )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"archive": ArchiveOptions(), "dashboard": False}, "archive needs log.group_class=STANDARD"),
        ({}, "extracts no embedded metrics, so the dashboard's graphs"),
    ],
)
def test_infrequent_access_with_what_it_cannot_feed_is_an_error_at_synth(
    new_stack: NewStack, props: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TableStreamLogger(
            new_stack(),
            "Logger",
            **props,
            new_table=NewTable(partition_key=PK),
            log=LogOptions(group_class=logs.LogGroupClass.INFREQUENT_ACCESS),
        )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"retention": Duration.hours(36)},
            "^archive.retention must be a whole number of days, at least 1, got 1 day 12 hours$",
        ),
        ({"retention": Duration.hours(1)}, "archive.retention must be a whole number of days"),
        ({"bytes_scanned_limit": Size.mebibytes(9)}, "^archive.bytes_scanned_limit must be at least 10 MiB"),
    ],
)
def test_archive_props_out_of_range_are_an_error(new_stack: NewStack, props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TableStreamLogger(new_stack(), "Logger", new_table=NewTable(partition_key=PK), archive=ArchiveOptions(**props))


def test_the_old_archive_flag_is_refused_with_what_to_write_instead(new_stack: NewStack) -> None:
    # archive=True of the flat API: an archive is now its options, and no archive is None.
    with pytest.raises(ValueError, match=r"^archive takes ArchiveOptions\(...\), got True$"):
        TableStreamLogger(
            new_stack(),
            "Logger",
            new_table=NewTable(partition_key=PK),
            archive=True,  # type: ignore[arg-type]
        )


# --- the archive's resources --------------------------------------------------------------


def test_no_archive_by_default(new_stack: NewStack) -> None:
    stack = new_stack()
    logger = TableStreamLogger(stack, "Logger", new_table=NewTable(partition_key=PK))
    template = assertions.Template.from_stack(stack)

    assert logger.archive is None
    for resource_type in (
        "AWS::KinesisFirehose::DeliveryStream",
        "AWS::Logs::SubscriptionFilter",
        "AWS::Glue::Table",
        "AWS::Athena::WorkGroup",
    ):
        template.resource_count_is(resource_type, 0)


def test_bucket_is_encrypted_ssl_only_versioned_private_and_expires_after_a_year(archived: assertions.Template) -> None:
    name, bucket = resource(archived, "AWS::S3::Bucket")
    props = bucket["Properties"]

    assert bucket["DeletionPolicy"] == "Retain"
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    for rule_id, prefix in (("ExpireChanges", "changes/"), ("ExpireErrors", "errors/")):
        assert rules[rule_id]["Prefix"] == prefix
        assert rules[rule_id]["ExpirationInDays"] == 365
        assert rules[rule_id]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 365}
    assert rules["ExpireQueryResults"]["Prefix"] == "athena-results/"
    assert rules["ExpireQueryResults"]["ExpirationInDays"] == 7
    (policy,) = (
        value["Properties"]["PolicyDocument"]["Statement"]
        for value in archived.find_resources("AWS::S3::BucketPolicy").values()
        if value["Properties"]["Bucket"] == {"Ref": name}
    )
    assert policy == [
        {
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": [get_att(name), {"Fn::Join": ["", [get_att(name), "/*"]]}],
        }
    ]


def test_retention_and_query_limit_can_be_set(new_stack: NewStack) -> None:
    stack = new_stack()
    TableStreamLogger(
        stack,
        "Logger",
        new_table=NewTable(partition_key=PK),
        archive=ArchiveOptions(retention=Duration.days(2555), bytes_scanned_limit=Size.gibibytes(1)),
    )
    template = assertions.Template.from_stack(stack)

    rules = {rule["Id"]: rule for rule in properties(template, "AWS::S3::Bucket")["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireChanges"]["ExpirationInDays"] == 2555
    configuration = properties(template, "AWS::Athena::WorkGroup")["WorkGroupConfiguration"]
    assert configuration["BytesScannedCutoffPerQuery"] == 1024**3


def test_subscription_sends_only_change_lines_to_the_delivery_stream(archived: assertions.Template) -> None:
    stream = logical_id(archived, "AWS::KinesisFirehose::DeliveryStream")
    role = logical_id(archived, "AWS::IAM::Role", f"{ARCHIVE}SubscriptionRole")

    assert logs.FilterPattern.exists("$.event_name").log_pattern_string == CHANGE_LINES_PATTERN
    assert properties(archived, "AWS::Logs::SubscriptionFilter") == {
        "DestinationArn": get_att(stream),
        "FilterName": "change-lines",
        "FilterPattern": '{ $.event_name = "*" }',
        "LogGroupName": {"Ref": logical_id(archived, "AWS::Logs::LogGroup", "LoggerLogGroup")},
        "RoleArn": get_att(role),
    }
    # Created once the role may put to the stream: CloudWatch Logs tests the destination then.
    _, subscription = resource(archived, "AWS::Logs::SubscriptionFilter")
    assert subscription["DependsOn"] == [logical_id(archived, "AWS::IAM::Policy", f"{ARCHIVE}SubscriptionRole")]


def test_subscription_role_may_only_put_records_to_its_stream(archived: assertions.Template) -> None:
    stream = logical_id(archived, "AWS::KinesisFirehose::DeliveryStream")
    trust = properties(archived, "AWS::IAM::Role", f"{ARCHIVE}SubscriptionRole")["AssumeRolePolicyDocument"]
    policy = properties(archived, "AWS::IAM::Policy", f"{ARCHIVE}SubscriptionRole")["PolicyDocument"]

    # Only CloudWatch Logs acting for the logger's log group, named with and without its ":*"
    group = {"Ref": logical_id(archived, "AWS::Logs::LogGroup", "LoggerLogGroup")}
    assert trust["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringLike": {"aws:SourceArn": [logs_arn(":log-group:", group), logs_arn(":log-group:", group, ":*")]}
            },
            "Effect": "Allow",
            "Principal": {"Service": "logs.amazonaws.com"},
        }
    ]
    assert policy["Statement"] == [{"Action": "firehose:PutRecord", "Effect": "Allow", "Resource": get_att(stream)}]


def test_delivery_stream_decompresses_extracts_and_writes_gzip_under_date_partitions(
    archived: assertions.Template,
) -> None:
    bucket = logical_id(archived, "AWS::S3::Bucket")
    role = logical_id(archived, "AWS::IAM::Role", f"{ARCHIVE}DeliveryRole")
    group = logical_id(archived, "AWS::Logs::LogGroup", f"{ARCHIVE}DeliveryLogGroup")
    log_stream = logical_id(archived, "AWS::Logs::LogStream")
    _, stream = resource(archived, "AWS::KinesisFirehose::DeliveryStream")

    assert stream["Properties"] == {
        "DeliveryStreamEncryptionConfigurationInput": {"KeyType": "AWS_OWNED_CMK"},
        "DeliveryStreamType": "DirectPut",
        "ExtendedS3DestinationConfiguration": {
            "BucketARN": get_att(bucket),
            "BufferingHints": {"IntervalInSeconds": 900, "SizeInMBs": 128},
            "CloudWatchLoggingOptions": {
                "Enabled": True,
                "LogGroupName": {"Ref": group},
                "LogStreamName": {"Ref": log_stream},
            },
            "CompressionFormat": "GZIP",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/"
            "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/",
            "Prefix": "changes/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/",
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Parameters": [{"ParameterName": "CompressionFormat", "ParameterValue": "GZIP"}],
                        "Type": "Decompression",
                    },
                    {
                        "Parameters": [{"ParameterName": "DataMessageExtraction", "ParameterValue": "true"}],
                        "Type": "CloudWatchLogProcessing",
                    },
                    {"Type": "AppendDelimiterToRecord"},
                ],
            },
            "RoleARN": get_att(role),
        },
    }
    assert stream["DependsOn"] == [logical_id(archived, "AWS::IAM::Policy", f"{ARCHIVE}DeliveryRole")]


def test_delivery_role_may_only_write_the_archive_prefixes_and_its_log_stream(archived: assertions.Template) -> None:
    bucket = logical_id(archived, "AWS::S3::Bucket")
    group = logical_id(archived, "AWS::Logs::LogGroup", f"{ARCHIVE}DeliveryLogGroup")
    log_stream = logical_id(archived, "AWS::Logs::LogStream")
    trust = properties(archived, "AWS::IAM::Role", f"{ARCHIVE}DeliveryRole")["AssumeRolePolicyDocument"]
    policy = properties(archived, "AWS::IAM::Policy", f"{ARCHIVE}DeliveryRole")["PolicyDocument"]

    assert trust["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}},
            "Effect": "Allow",
            "Principal": {"Service": "firehose.amazonaws.com"},
        }
    ]
    assert policy["Statement"] == [
        {
            "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": [objects_under(bucket, "changes/"), objects_under(bucket, "errors/")],
        },
        {
            "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            "Effect": "Allow",
            "Resource": get_att(bucket),
        },
        {
            "Action": "logs:PutLogEvents",
            "Effect": "Allow",
            "Resource": logs_arn(":log-group:", {"Ref": group}, ":log-stream:", {"Ref": log_stream}),
        },
    ]


def test_glue_table_projects_the_partitions_over_the_change_lines(archived: assertions.Template) -> None:
    bucket = logical_id(archived, "AWS::S3::Bucket")
    database = properties(archived, "AWS::Glue::Database")["DatabaseInput"]["Name"]
    _, table = resource(archived, "AWS::Glue::Table", f"{ARCHIVE}Table")
    table_input = table["Properties"]["TableInput"]

    assert table["Properties"]["DatabaseName"] == database
    assert table["DependsOn"] == [logical_id(archived, "AWS::Glue::Database")]
    assert table_input["Name"] == TABLE_NAME
    assert table_input["TableType"] == "EXTERNAL_TABLE"
    assert table_input["PartitionKeys"] == [{"Name": name, "Type": "int"} for name in ("year", "month", "day")]
    assert table_input["Parameters"] == {
        "classification": "json",
        "compressionType": "gzip",
        "projection.enabled": "true",
        "projection.year.type": "integer",
        "projection.year.range": "2020,2120",
        "projection.month.type": "integer",
        "projection.month.range": "1,12",
        "projection.month.digits": "2",
        "projection.day.type": "integer",
        "projection.day.range": "1,31",
        "projection.day.digits": "2",
    }
    descriptor = table_input["StorageDescriptor"]
    assert descriptor["Location"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket}, "/changes/"]]}
    assert descriptor["SerdeInfo"] == {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"}
    assert [(column["Name"], column["Type"]) for column in descriptor["Columns"]] == list(COLUMNS)


def test_the_text_table_reads_the_same_lines_as_their_exact_text(archived: assertions.Template) -> None:
    # GIVEN the JSON table and the text table over the same objects
    _, table = resource(archived, "AWS::Glue::Table", f"{ARCHIVE}Table")
    _, lines = resource(archived, "AWS::Glue::Table", f"{ARCHIVE}LinesTable")
    json_input, text_input = table["Properties"]["TableInput"], lines["Properties"]["TableInput"]

    # THEN one string column, read by the text SerDe; the rest as the JSON table has it
    assert text_input["Name"] == LINES_TABLE_NAME
    assert text_input["StorageDescriptor"]["Columns"] == [{"Name": "line", "Type": "string"}]
    assert text_input["StorageDescriptor"]["SerdeInfo"] == {
        "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
    }
    assert text_input["Parameters"] == {**json_input["Parameters"], "classification": "text"}
    for same in ("PartitionKeys", "TableType"):
        assert text_input[same] == json_input[same]
    for same in ("Location", "InputFormat", "OutputFormat"):
        assert text_input["StorageDescriptor"][same] == json_input["StorageDescriptor"][same]
    assert lines["Properties"]["DatabaseName"] == table["Properties"]["DatabaseName"]
    assert lines["DependsOn"] == [resource(archived, "AWS::Glue::Table", f"{ARCHIVE}Table")[0]]


def test_names_athena_needs_are_lower_case_and_unique_per_construct(archived: assertions.Template) -> None:
    database = properties(archived, "AWS::Glue::Database")["DatabaseInput"]["Name"]
    workgroup = properties(archived, "AWS::Athena::WorkGroup")["Name"]

    assert database.startswith("archived_logger_archive_") and database.endswith("_database")
    assert workgroup.startswith("archived_logger_archive_") and workgroup.endswith("_workgroup")
    assert database == database.lower() and "-" not in database


def test_workgroup_encrypts_results_and_limits_bytes_scanned(archived: assertions.Template) -> None:
    bucket = logical_id(archived, "AWS::S3::Bucket")

    assert properties(archived, "AWS::Athena::WorkGroup")["WorkGroupConfiguration"] == {
        "BytesScannedCutoffPerQuery": 10 * 1024**3,
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": True,
        "ResultConfiguration": {
            "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
            "OutputLocation": {"Fn::Join": ["", ["s3://", {"Ref": bucket}, "/athena-results/"]]},
        },
    }


def test_saved_queries_are_in_the_workgroup_and_database(archived: assertions.Template) -> None:
    workgroup = logical_id(archived, "AWS::Athena::WorkGroup")
    database = properties(archived, "AWS::Glue::Database")["DatabaseInput"]["Name"]
    queries = {
        value["Properties"]["Name"]: value for value in archived.find_resources("AWS::Athena::NamedQuery").values()
    }

    assert sorted(queries) == [
        "Changes of one attribute",
        "Changes per day by event name",
        "History of one item",
        "TTL expiries",
    ]
    for query in queries.values():
        assert query["Properties"]["WorkGroup"] == {"Ref": workgroup}
        assert query["Properties"]["Database"] == database
        assert query["DependsOn"] == [resource(archived, "AWS::Glue::Table", f"{ARCHIVE}Table")[0]]
    history = queries["History of one item"]["Properties"]["QueryString"]
    assert "json_extract_scalar(keys, '$.PK') = ?\n  AND json_extract_scalar(keys, '$.SK') = ?" in history


def test_history_query_needs_the_key_names_which_an_imported_table_does_not_tell(new_stack: NewStack) -> None:
    stack = new_stack()
    table = dynamodb.Table.from_table_attributes(stack, "Orders", table_name="orders", table_stream_arn=STREAM_ARN)
    TableStreamLogger(stack, "Logger", table=table, archive=ArchiveOptions())
    names = [
        value["Properties"]["Name"]
        for value in assertions.Template.from_stack(stack).find_resources("AWS::Athena::NamedQuery").values()
    ]

    assert "History of one item" not in names and len(names) == 3


def test_odd_key_names_are_quoted_in_the_json_path() -> None:
    (_, _, sql) = athena_queries(["PK", "it's #1"])["ItemHistory"]

    assert "json_extract_scalar(keys, '$.PK') = ?" in sql
    assert """json_extract_scalar(keys, '$["it''s #1"]') = ?""" in sql


def test_alarms_watch_both_deliveries_and_join_the_loggers_alarms(archived: assertions.Template) -> None:
    stream = logical_id(archived, "AWS::KinesisFirehose::DeliveryStream")
    group = logical_id(archived, "AWS::Logs::LogGroup", "LoggerLogGroup")
    alarms = {
        value["Properties"]["MetricName"]: value["Properties"]
        for name, value in archived.find_resources("AWS::CloudWatch::Alarm").items()
        if name.startswith(ARCHIVE)
    }

    assert alarms["DeliveryToS3.Success"]["Namespace"] == "AWS/Firehose"
    assert alarms["DeliveryToS3.Success"]["Dimensions"] == [{"Name": "DeliveryStreamName", "Value": {"Ref": stream}}]
    assert alarms["DeliveryToS3.Success"]["ComparisonOperator"] == "LessThanThreshold"
    assert alarms["DeliveryToS3.Success"]["Threshold"] == 1
    assert alarms["DeliveryErrors"]["Namespace"] == "AWS/Logs"
    assert alarms["DeliveryErrors"]["Dimensions"] == [
        {"Name": "DestinationType", "Value": "Firehose"},
        {"Name": "FilterName", "Value": "change-lines"},
        {"Name": "LogGroupName", "Value": {"Ref": group}},
    ]
    assert alarms["DeliveryErrors"]["ComparisonOperator"] == "GreaterThanThreshold"


def test_archive_alarms_are_in_the_loggers_alarms_and_none_without_alarms(new_stack: NewStack) -> None:
    with_alarms = TableStreamLogger(
        new_stack(), "Logger", new_table=NewTable(partition_key=PK), archive=ArchiveOptions()
    )
    without = TableStreamLogger(
        new_stack(),
        "Logger",
        new_table=NewTable(partition_key=PK),
        monitoring=Monitoring(alarms=False),
        archive=ArchiveOptions(),
    )

    assert {"ArchiveDelivery", "ArchiveSubscription"} <= set(with_alarms.alarms)
    assert with_alarms.archive is not None and set(with_alarms.archive.alarms) == {
        "ArchiveDelivery",
        "ArchiveSubscription",
    }
    assert without.alarms == {} and without.archive is not None and without.archive.alarms == {}


def test_only_the_prod_stage_has_the_archive(stage_templates: dict[str, dict[str, Any]]) -> None:
    def count(stage: str, resource_type: str) -> int:
        return sum(1 for value in stage_templates[stage]["Resources"].values() if value["Type"] == resource_type)

    assert count("prod", "AWS::KinesisFirehose::DeliveryStream") == 1
    assert count("prod", "AWS::Logs::SubscriptionFilter") == 1
    assert count("dev", "AWS::KinesisFirehose::DeliveryStream") == 0
    assert set(stage_templates["prod"]["Outputs"]) - set(stage_templates["dev"]["Outputs"]) == {
        "ArchiveBucketName",
        "ArchiveDatabaseName",
        "ArchiveWorkGroup",
    }
