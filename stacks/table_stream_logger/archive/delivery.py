"""The archive's delivery: the subscription filter on the logger's log group, the Firehose stream that
writes the change lines to the bucket, their roles, and the alarms on both (ChangeArchive)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._core import iam_actions as actions
from .._core.nag import acknowledge_rule, nag_resource
from .layout import (
    CHANGE_LINES_PATTERN,
    DATA_PREFIX,
    ERROR_PARTITIONS,
    ERROR_PREFIX,
    PARTITIONS,
    SUBSCRIPTION_FILTER_NAME,
)

# Firehose gathers up to 15 minutes or 128 MB before it writes an object: an audit trail
# needs no fresher data, and fewer, larger objects are cheaper to write and to query.
BUFFER_INTERVAL = Duration.minutes(15)
BUFFER_SIZE_MB = 128


def build_delivery_role(
    scope: Construct, bucket: s3.IBucket, key: kms.IKey | None, log_group: logs.LogGroup, log_stream: logs.LogStream
) -> iam.Role:
    """What the Firehose developer guide lists for an S3 destination, on the archive's prefixes only."""
    role = iam.Role(
        scope,
        "DeliveryRole",
        assumed_by=iam.ServicePrincipal(
            "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": Aws.ACCOUNT_ID}}
        ),
        description="Lets Firehose write the change archive's prefixes and its own log stream",
    )
    prefixes = [bucket.arn_for_objects(f"{prefix}*") for prefix in (DATA_PREFIX, ERROR_PREFIX)]
    role.add_to_policy(
        iam.PolicyStatement(
            actions=[actions.S3_ABORT_MULTIPART_UPLOAD, actions.S3_GET_OBJECT, actions.S3_PUT_OBJECT],
            resources=prefixes,
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=[
                actions.S3_GET_BUCKET_LOCATION,
                actions.S3_LIST_BUCKET,
                actions.S3_LIST_BUCKET_MULTIPART_UPLOADS,
            ],
            resources=[bucket.bucket_arn],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=[actions.LOGS_PUT_LOG_EVENTS],
            resources=[
                Stack.of(scope).format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=f"{log_group.log_group_name}:log-stream:{log_stream.log_stream_name}",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
    )
    if key is not None:  # S3 asks KMS for each object's data key as Firehose
        key.grant(role, actions.KMS_DECRYPT, actions.KMS_GENERATE_DATA_KEY)
    policy = role.node.find_child("DefaultPolicy").node.default_child
    for prefix, arn in zip((DATA_PREFIX, ERROR_PREFIX), prefixes, strict=True):
        acknowledge_rule(
            policy,
            f"IAM5[Resource::{nag_resource(Stack.of(scope).resolve(arn))}]",
            f"Firehose names each object it writes under {prefix} (by time and a random id), so no narrower key "
            "is known in advance; the role reaches no other prefix of the bucket.",
        )
    return role


def build_delivery_stream(
    scope: Construct, bucket: s3.IBucket, role: iam.Role, log_group: logs.LogGroup, log_stream: logs.LogStream
) -> firehose.CfnDeliveryStream:
    # The L1 resource: the L2 S3 destination grants its role read and write on the whole
    # bucket (s3:DeleteObject included), more than Firehose needs.
    processors = [
        firehose.CfnDeliveryStream.ProcessorProperty(
            type="Decompression",
            parameters=[
                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                    parameter_name="CompressionFormat", parameter_value="GZIP"
                )
            ],
        ),
        # Only each log event's message, the handler's line, without CloudWatch's envelope.
        firehose.CfnDeliveryStream.ProcessorProperty(
            type="CloudWatchLogProcessing",
            parameters=[
                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                    parameter_name="DataMessageExtraction", parameter_value="true"
                )
            ],
        ),
        # A newline after each record too, so that the records of a batch never share a line.
        firehose.CfnDeliveryStream.ProcessorProperty(type="AppendDelimiterToRecord"),
    ]
    stream = firehose.CfnDeliveryStream(
        scope,
        "DeliveryStream",
        delivery_stream_type="DirectPut",
        delivery_stream_encryption_configuration_input=(
            firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(key_type="AWS_OWNED_CMK")
        ),
        extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
            bucket_arn=bucket.bucket_arn,
            role_arn=role.role_arn,
            prefix=DATA_PREFIX + PARTITIONS,
            error_output_prefix=ERROR_PREFIX + ERROR_PARTITIONS,
            compression_format="GZIP",
            buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                interval_in_seconds=int(BUFFER_INTERVAL.to_seconds()), size_in_m_bs=BUFFER_SIZE_MB
            ),
            processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                enabled=True, processors=processors
            ),
            cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                enabled=True,
                log_group_name=log_group.log_group_name,
                log_stream_name=log_stream.log_stream_name,
            ),
        ),
    )
    # Firehose checks its role when the stream is created: the grants come first.
    stream.node.add_dependency(role.node.find_child("DefaultPolicy"))
    return stream


def build_subscription_filter(
    scope: Construct, log_group: logs.ILogGroup, delivery_stream: firehose.CfnDeliveryStream
) -> logs.CfnSubscriptionFilter:
    """The change lines into the delivery stream, with a role that may put to it and nothing else."""
    role = iam.Role(
        scope,
        "SubscriptionRole",
        # Only CloudWatch Logs acting for the logger's log group (the user guide's example allows
        # every log group of the account and region: any of them could be sent to the archive).
        # Its ARN with and without the ":*" CloudWatch Logs puts at the end of a log group's ARN.
        assumed_by=iam.ServicePrincipal(
            "logs.amazonaws.com",
            conditions={"StringLike": {"aws:SourceArn": _log_group_arns(log_group.log_group_name)}},
        ),
        description="Lets CloudWatch Logs put the change lines into the archive's delivery stream",
    )
    role.add_to_policy(iam.PolicyStatement(actions=[actions.FIREHOSE_PUT_RECORD], resources=[delivery_stream.attr_arn]))
    subscription = logs.CfnSubscriptionFilter(
        scope,
        "SubscriptionFilter",
        log_group_name=log_group.log_group_name,
        filter_name=SUBSCRIPTION_FILTER_NAME,
        filter_pattern=CHANGE_LINES_PATTERN,
        destination_arn=delivery_stream.attr_arn,
        role_arn=role.role_arn,
    )
    # CloudWatch Logs sends a test message when the filter is created: the grant comes first.
    subscription.node.add_dependency(role.node.find_child("DefaultPolicy"))
    return subscription


def build_delivery_alarms(
    scope: Construct,
    log_group: logs.ILogGroup,
    delivery_stream: firehose.CfnDeliveryStream,
    alarm_action: cloudwatch.IAlarmAction | None,
) -> dict[str, cloudwatch.Alarm]:
    """``ArchiveDelivery`` and ``ArchiveSubscription``, as children ``DeliveryAlarm`` and
    ``SubscriptionAlarm`` of ``scope``."""

    def build(construct_id: str, description: str, metric: cloudwatch.Metric, above_zero: bool) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            scope,
            construct_id,
            alarm_description=description,
            metric=metric,
            # A failure count above 0, or a success ratio below 1.
            threshold=0 if above_zero else 1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
            if above_zero
            else cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=1,
            # Nothing delivered is no failure.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    five_minutes = Duration.minutes(5)
    alarms = {
        "ArchiveDelivery": build(
            "DeliveryAlarm",
            "Firehose failed to write change lines to the archive bucket; it retries for 24 hours, then drops "
            "them. Look at the delivery stream's log group.",
            cloudwatch.Metric(
                namespace="AWS/Firehose",
                metric_name="DeliveryToS3.Success",
                dimensions_map={"DeliveryStreamName": delivery_stream.ref},
                statistic="Minimum",
                period=five_minutes,
            ),
            above_zero=False,
        ),
        "ArchiveSubscription": build(
            "SubscriptionAlarm",
            "CloudWatch Logs failed to put change lines into the archive's delivery stream: it retries "
            "retryable errors for 24 hours, and drops the lines after a permission error.",
            cloudwatch.Metric(
                namespace="AWS/Logs",
                metric_name="DeliveryErrors",
                dimensions_map={
                    "LogGroupName": log_group.log_group_name,
                    "DestinationType": "Firehose",
                    "FilterName": SUBSCRIPTION_FILTER_NAME,
                },
                statistic="Sum",
                period=five_minutes,
            ),
            above_zero=True,
        ),
    }
    if alarm_action is not None:
        for alarm in alarms.values():
            alarm.add_alarm_action(alarm_action)
            alarm.add_ok_action(alarm_action)
    return alarms


def _log_group_arns(log_group_name: str) -> list[str]:
    """The ARNs by which CloudWatch Logs names one log group: ``...:log-group:NAME`` and ``...:NAME:*``."""
    arn = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:{log_group_name}"
    return [arn, f"{arn}:*"]
